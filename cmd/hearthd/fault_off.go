//go:build !faultinject

package main

import "log/slog"

// faultInjector is nil in real builds: fault points exist only in test
// builds (-tags faultinject).
func faultInjector(*slog.Logger) func(string) { return nil }
