package certs

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
)

func TestZapLoggerWritesToSlog(t *testing.T) {
	tests := []struct {
		name  string
		level slog.Level
		log   func(l *zap.Logger)
		want  []map[string]any
	}{
		{
			name:  "fields, name and With",
			level: slog.LevelDebug,
			log: func(l *zap.Logger) {
				l.Named("obtain").With(zap.String("identifier", "a.box.test")).Info("obtaining certificate", zap.Int("attempt", 2))
			},
			want: []map[string]any{{"level": "INFO", "msg": "obtaining certificate", "component": "certs", "logger": "obtain", "identifier": "a.box.test", "attempt": float64(2)}},
		},
		{
			name:  "levels",
			level: slog.LevelDebug,
			log: func(l *zap.Logger) {
				l.Debug("d")
				l.Warn("w")
				l.Error("e", zap.Error(errors.New("boom")))
			},
			want: []map[string]any{
				{"level": "DEBUG", "msg": "d", "component": "certs"},
				{"level": "WARN", "msg": "w", "component": "certs"},
				{"level": "ERROR", "msg": "e", "component": "certs", "error": "boom"},
			},
		},
		{
			name:  "handler level filters",
			level: slog.LevelWarn,
			log: func(l *zap.Logger) {
				l.Info("hidden")
				l.Warn("shown", zap.Strings("names", []string{"a", "b"}))
			},
			want: []map[string]any{{"level": "WARN", "msg": "shown", "component": "certs", "names": []any{"a", "b"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{
				Level: tt.level,
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				},
			})
			tt.log(newZapLogger(slog.New(h).With("component", "certs")))
			var got []map[string]any
			dec := json.NewDecoder(&buf)
			for dec.More() {
				var m map[string]any
				if err := dec.Decode(&m); err != nil {
					t.Fatal(err)
				}
				got = append(got, m)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}
