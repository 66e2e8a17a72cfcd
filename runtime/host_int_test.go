package rt_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	rt "github.com/hearthbox/hearth/runtime"
)

// TestHostMountsAndFiles checks that a read-only host mount and a file are
// readable and not writable, and that a writable host mount writes to the
// host.
func TestHostMountsAndFiles(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	ro, rw := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(ro, "hello.txt"), []byte("from the host"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The image's user is not root: it must be able to read and write.
	for _, d := range []struct {
		dir  string
		mode os.FileMode
	}{{ro, 0o755}, {rw, 0o777}} {
		if err := os.Chmod(d.dir, d.mode); err != nil {
			t.Fatal(err)
		}
	}
	_, info := startWeb(t, e, tc, "hostfs-web", "hostfs", func(s *rt.ContainerSpec) {
		s.HostMounts = []rt.HostMount{{Source: ro, Target: "/host", ReadOnly: true}, {Source: rw, Target: "/hostrw"}}
		s.Files = []rt.File{{Target: "/etc/app.conf", Content: "greeting = hi\n"}}
	})
	ctx := context.Background()
	reads := []struct{ path, want string }{{"/host/hello.txt", "from the host"}, {"/etc/app.conf", "greeting = hi\n"}}
	for _, r := range reads {
		t.Run("read "+r.path, func(t *testing.T) {
			got, err := get(ctx, info.IP, 8080, "/read?path="+r.path)
			if err != nil || got != r.want {
				t.Errorf("got %q, %v, want %q", got, err, r.want)
			}
		})
	}
	writes := []struct {
		path string
		ok   bool
	}{{"/host/probe", false}, {"/host/hello.txt", false}, {"/etc/app.conf", false}, {"/hostrw/probe", true}}
	for _, w := range writes {
		t.Run("write "+w.path, func(t *testing.T) {
			body, err := get(ctx, info.IP, 8080, "/write?path="+w.path)
			if w.ok && err != nil {
				t.Fatalf("got %v, want the write to work", err)
			}
			if !w.ok && err == nil {
				t.Fatalf("got %q, want the write refused", body)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(rw, "probe")); err != nil {
		t.Errorf("the writable host mount's file on the host: %v", err)
	}
	if _, err := os.Stat(filepath.Join(ro, "probe")); err == nil {
		t.Errorf("got a file written through the read-only host mount, want none")
	}
}

// TestHostMountMissing checks that a host path that does not exist is
// refused, naming the field, before anything is made.
func TestHostMountMissing(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	s := tc.webSpec("hostmiss-web", "hostmiss", tc.pull(t, e, "web:1.0"), "")
	s.HostMounts = []rt.HostMount{{Source: filepath.Join(t.TempDir(), "nope"), Target: "/nope"}}
	_, _, err := tc.Ensure(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "hostMounts[0].source") {
		t.Fatalf("got %v, want an error naming hostMounts[0].source", err)
	}
}

// TestPrivilegedHostNamespaces checks that a privileged container on the
// host's network and process namespace really gets them: every capability,
// no seccomp filter, no no-new-privileges, the host's PIDs, and it listens
// on the host's loopback, where the runtime says it is.
func TestPrivilegedHostNamespaces(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	port := freePort(t)
	s := tc.webSpec("priv-web", "priv", tc.pull(t, e, "web:1.0"), "")
	s.Privileged, s.HostNetwork, s.HostPID = true, true, true
	s.Env = append(s.Env, "HOST=127.0.0.1", fmt.Sprintf("PORT=%d", port))
	s.Health.HTTPPort = port
	info := tc.run(t, s)
	if want := netip.MustParseAddr("127.0.0.1"); info.IP != want {
		t.Errorf("got IP %v, want %v", info.IP, want)
	}
	waitHTTP(t, info.IP, port, "/healthz")
	status, err := get(context.Background(), info.IP, port, "/proc?file=status")
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	for k, want := range map[string]string{"NoNewPrivs": "0", "Seccomp": "0", "Pid": fmt.Sprint(info.PID), "NSpid": fmt.Sprint(info.PID)} {
		if fields[k] != want {
			t.Errorf("%s: got %q, want %q", k, fields[k], want)
		}
	}
	// The image's user is not root, so as with Docker only the bounding
	// set is full. CAP_SYS_ADMIN is bit 21: never there without privileges.
	var bnd uint64
	if _, err := fmt.Sscanf(fields["CapBnd"], "%x", &bnd); err != nil || bnd&(1<<21) == 0 {
		t.Errorf("CapBnd: got %q, want every capability", fields["CapBnd"])
	}
}

// freePort returns a TCP port free on the host's loopback.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
