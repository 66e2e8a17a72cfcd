// Package testenv starts the real parts that Hearth's tests run against: a
// private containerd and an in-process OCI registry, and says what to do when
// a part is missing: fail under CI, skip elsewhere. Only tests and benchmarks
// import it.
package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/hearthbox/hearth/internal/ctrd"
)

// Need is called by a test that needs root and the named host binaries. It
// fails the test when CI is set and one is missing, and skips it otherwise.
func Need(tb testing.TB, binaries ...string) {
	tb.Helper()
	for _, b := range binaries {
		if _, err := exec.LookPath(b); err != nil {
			Unavailable(tb, fmt.Sprintf("%s not found: run 'make deps' (apt-get install containerd runc containernetworking-plugins iptables)", b))
		}
	}
	if os.Geteuid() != 0 {
		Unavailable(tb, "this test needs root")
	}
}

// Unavailable fails tb under CI and skips it elsewhere: in CI every part must
// be there, so a missing one is a failure, never a silent skip.
func Unavailable(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf("CI is set and %s", why)
	}
	tb.Skip(why)
}

// NeedContainerd is Need with the host binaries a test with containers needs.
func NeedContainerd(tb testing.TB) {
	tb.Helper()
	Need(tb, "containerd", "runc", "containerd-shim-runc-v2", "iptables")
}

// StartContainerd starts a private containerd for one test and stops it
// (killing its tasks and removing its folder) in t.Cleanup.
func StartContainerd(tb testing.TB) *ctrd.Daemon {
	tb.Helper()
	NeedContainerd(tb)
	d, err := ctrd.Start(context.Background(), ctrd.Options{})
	if err != nil {
		tb.Fatalf("start containerd: %v", err)
	}
	tb.Cleanup(func() {
		if err := d.Stop(context.Background()); err != nil {
			tb.Errorf("stop containerd: %v", err)
		}
	})
	return d
}
