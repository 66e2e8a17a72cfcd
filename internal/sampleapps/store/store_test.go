package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hearthbox/hearth/internal/sampleapps/apptest"
)

func TestStore(t *testing.T) {
	bin := apptest.Build(t, ".", "main.version=1.0-test")
	dataDir := filepath.Join(t.TempDir(), "data")
	p := apptest.Start(t, bin, "DATA_DIR="+dataDir)

	// Sequential: later cases see what earlier ones did.
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   string // exact
	}{
		{"healthz", "GET", "/healthz", "", 200, "ok"},
		{"info", "GET", "/", "", 200, `{"app":"store","version":"1.0-test"}` + "\n"},
		{"get missing", "GET", "/kv/color", "", 404, `no key "color"` + "\n"},
		{"put", "PUT", "/kv/color", "blue", 200, "ok"},
		{"get", "GET", "/kv/color", "", 200, "blue"},
		{"overwrite", "PUT", "/kv/color", "green", 200, "ok"},
		{"get again", "GET", "/kv/color", "", 200, "green"},
		{"incr new", "POST", "/kv/hits/incr", "", 200, "1\n"},
		{"incr again", "POST", "/kv/hits/incr", "", 200, "2\n"},
		{"get counter", "GET", "/kv/hits", "", 200, "2"},
		{"incr a word", "POST", "/kv/color/incr", "", 500, ""},
		{"bad key", "PUT", "/kv/Bad_Key", "x", 400, `key "Bad_Key": want 1 to 64 of a-z, 0-9 and -` + "\n"},
		{"key too long", "GET", "/kv/" + strings.Repeat("a", 65), "", 400, ""},
		{"value too big", "PUT", "/kv/big", strings.Repeat("x", 1<<20+1), 413, ""},
		{"incr needs POST", "GET", "/kv/hits/incr", "", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, p.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatalf("new request: %v", err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", tt.method, tt.path, err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status: got %d, want %d (body %q)", resp.StatusCode, tt.wantStatus, b)
			}
			if tt.wantBody != "" && string(b) != tt.wantBody {
				t.Errorf("body: got %q, want %q", b, tt.wantBody)
			}
		})
	}

	t.Run("values are files under DATA_DIR/kv", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dataDir, "kv", "color"))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != "green" {
			t.Errorf("file kv/color: got %q, want %q", b, "green")
		}
	})

	t.Run("SIGTERM", func(t *testing.T) {
		if err := p.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("SIGTERM: %v", err)
		}
		code, err := p.Wait(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if code != 0 {
			t.Errorf("exit code: got %d, want 0", code)
		}
	})
}
