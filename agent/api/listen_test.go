package api_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

// TestListen checks the socket's and its folder's modes, and what Listen
// does with what it finds in the way.
func TestListen(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir, sock string)
		wantErr string // "" = Listen works
	}{
		{"fresh folder", func(t *testing.T, dir, sock string) {}, ""},
		{"open folder tightened", func(t *testing.T, dir, sock string) {
			mustMkdir(t, dir, 0o755)
		}, ""},
		{"stale socket replaced", func(t *testing.T, dir, sock string) {
			mustMkdir(t, dir, 0o700)
			ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			ln.SetUnlinkOnClose(false)
			ln.Close()
		}, ""},
		{"live socket refused", func(t *testing.T, dir, sock string) {
			mustMkdir(t, dir, 0o700)
			ln, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
		}, "another hearthd answers on it"},
		{"file in the way refused", func(t *testing.T, dir, sock string) {
			mustMkdir(t, dir, 0o700)
			if err := os.WriteFile(sock, []byte("keep me"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "a file that is not a socket is in the way"},
		{"shared folder refused", func(t *testing.T, dir, sock string) {
			mustMkdir(t, dir, 0o1777)
		}, "a shared folder"},
		{"symlinked folder refused", func(t *testing.T, dir, sock string) {
			mustMkdir(t, dir+".real", 0o700)
			if err := os.Symlink(dir+".real", dir); err != nil {
				t.Fatal(err)
			}
		}, "not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			sock := filepath.Join(dir, "hearthd.sock")
			tt.prepare(t, dir, sock)
			ln, err := api.Listen(sock)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			defer ln.Close()
			for _, c := range []struct {
				path string
				want os.FileMode
			}{{dir, os.ModeDir | 0o700}, {sock, os.ModeSocket | 0o600}} {
				fi, err := os.Lstat(c.path)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode() & (os.ModeType | os.ModePerm); got != c.want {
					t.Errorf("%s: got mode %v, want %v", c.path, got, c.want)
				}
			}
			ln.Close()
			if _, err := os.Lstat(sock); !os.IsNotExist(err) {
				t.Errorf("after Close: got %v, want the socket gone", err)
			}
		})
	}
}

func mustMkdir(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

// TestPeerIsRecorded checks that the actor the service sees is the peer
// the kernel reports: this test process, as root.
func TestPeerIsRecorded(t *testing.T) {
	f := apitest.Sample()
	sock := server(t, f)
	if _, err := client(t, sock).Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := f.Calls()[0].Actor, wantActor(t); got != want {
		t.Errorf("got actor %q, want %q", got, want)
	}
}
