package manifest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBackupDump checks backup.dump on testdata/valid/full.json (three
// services): each case sets "backup" and expects the named paths.
func TestBackupDump(t *testing.T) {
	for _, tc := range []struct {
		name      string
		backup    any
		wantPaths []string // nil = valid
		reason    string
	}{
		{"dump in a service", map[string]any{"service": "store", "dump": []any{"pg_dump", "-f", "/data/dump.sql"}, "timeout": "5m"}, nil, ""},
		{"no service with three", map[string]any{"dump": []any{"pg_dump"}}, []string{"backup.service"}, "more than one service"},
		{"unknown service", map[string]any{"service": "db", "dump": []any{"pg_dump"}}, []string{"backup.service"}, `"db" is not one of`},
		{"empty dump", map[string]any{"service": "store", "dump": []any{}}, []string{"backup.dump"}, "must name a program"},
		{"service without dump", map[string]any{"service": "store"}, []string{"backup.dump"}, "is required"},
		{"timeout too long", map[string]any{"service": "store", "dump": []any{"x"}, "timeout": "2h"}, []string{"backup.timeout"}, "at most 1h"},
		{"unknown field", map[string]any{"service": "store", "dump": []any{"x"}, "before": "x"}, []string{"backup.before"}, "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := loadDoc(t, "testdata/valid/full.json")
			apply(t, doc, op{"backup", tc.backup})
			data, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(data)
			if tc.wantPaths == nil {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				if got := m.Backup.DumpService(m); got != "store" {
					t.Errorf("got dump service %q, want store", got)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
			if diff := cmp.Diff(tc.wantPaths, fieldPaths(t, err)); diff != "" {
				t.Errorf("paths (-want +got):\n%s\nerror: %v", diff, err)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("got %v, want it to say %q", err, tc.reason)
			}
		})
	}
}
