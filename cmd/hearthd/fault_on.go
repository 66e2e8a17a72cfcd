//go:build faultinject

package main

import (
	"log/slog"
	"os"
	"syscall"
)

// faultInjector kills hearthd dead (SIGKILL, no cleanup) when an operation
// reaches the point named by HEARTH_FAULT ("install/pull/after"). Only test
// builds (-tags faultinject) have it: the crash tests use it to prove that
// every step recovers.
func faultInjector(log *slog.Logger) func(string) {
	want := os.Getenv("HEARTH_FAULT")
	if want == "" {
		return nil
	}
	return func(point string) {
		if point == want {
			log.Warn("fault injected: dying", "point", point)
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
}
