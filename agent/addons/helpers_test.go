package addons

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hearthbox/hearth/internal/testenv"
)

// needFiles fails (CI) or skips the test unless it runs as root and the
// files (a Debian package's binaries) exist.
func needFiles(t *testing.T, pkg string, files ...string) {
	t.Helper()
	testenv.Need(t)
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			testenv.Unavailable(t, f+" not found: run 'make deps-test' (apt-get install "+pkg+")")
		}
	}
}

// addonDir is a folder the servers' system users can enter: t.TempDir is
// root's alone.
func addonDir(t *testing.T, kind string) string {
	t.Helper()
	base := t.TempDir()
	for d := base; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(base, kind)
}

// freePort is a TCP port nothing listens on at the moment.
func freePort(t *testing.T) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

// Subnets of two apps, on loopback: a client bound to an address of one
// connects to 127.0.0.1 from inside that app's subnet, as a container on
// the app's network connects to its gateway.
var (
	subnetA = netip.MustParsePrefix("127.0.10.0/24")
	subnetB = netip.MustParsePrefix("127.0.11.0/24")
	clientA = netip.MustParseAddr("127.0.10.5")
	clientB = netip.MustParseAddr("127.0.11.5")
	local   = netip.MustParseAddr("127.0.0.1")
	gateway = netip.MustParseAddr("127.0.0.2")
)

// dialFrom dials addr from the source address src.
func dialFrom(src netip.Addr) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src.AsSlice()}, Timeout: 5 * time.Second}
	return d.DialContext
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// testWriter sends a server's output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", p)
	return len(p), nil
}

// killServer SIGKILLs the process whose pid is the first line of pidFile.
func killServer(t *testing.T, pidFile string) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

func bufioReaderOf(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
