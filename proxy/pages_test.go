package proxy

import (
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/pages/*.golden")

func TestPagesGolden(t *testing.T) {
	p, err := New(Config{HTTPAddr: "127.0.0.1:0", HTTPSAddr: "127.0.0.1:0", Certs: newTestCerts(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	r := Route{ID: "notes", Title: `<script>alert("x")</script> & Notes`, State: StateStarting}
	stopped, updating := r, r
	stopped.State, updating.State = StateStopped, StateUpdating
	pages := []struct {
		name string
		page page
	}{
		{"starting", statePage(r)},
		{"updating", statePage(updating)},
		{"stopped", statePage(stopped)},
		{"unreachable", unreachablePage(r)},
		{"timeout", timeoutPage(r)},
		{"toolarge", tooLargePage(r, 10<<30)},
		{"notfound", notFoundPage()},
		{"unauthorized", unauthorizedPage(r, `https://hearth.local/login?next=https%3A%2F%2Fa"b`)},
	}
	for _, tt := range pages {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			p.renderPage(w, tt.page)
			if w.Code != tt.page.Status {
				t.Errorf("status: got %d, want %d", w.Code, tt.page.Status)
			}
			checkOwnPageHeaders(t, w.Header())
			path := filepath.Join("testdata", "pages", tt.name+".golden")
			got := w.Body.String()
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run go test ./proxy -update): %v", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("page %s (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{{10 << 30, "10 GiB"}, {1 << 20, "1 MiB"}, {1536, "1536 bytes"}, {1000, "1000 bytes"}, {3 << 19, "1536 KiB"}}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := byteSize(tt.n); got != tt.want {
				t.Errorf("byteSize(%d): got %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}
