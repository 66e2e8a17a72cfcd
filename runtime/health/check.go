// Package health runs containers' health checks (HTTP, TCP or a command) the
// way Docker does and reports each container's status as it changes.
//
// It knows neither containerd nor the runtime package rt: rt imports it,
// gives each container a Target (its address, and a function that runs a
// command inside it) and turns status changes into events.
package health

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Defaults that WithDefaults fills in.
const (
	DefaultInterval = 10 * time.Second
	DefaultTimeout  = 5 * time.Second
	DefaultRetries  = 3
)

// ErrInvalidCheck is wrapped by the errors of Check.Validate.
var ErrInvalidCheck = errors.New("invalid health check")

// Check says how to probe a container. Exactly one kind is set: an HTTP GET
// of HTTPPath on HTTPPort, a TCP connection to TCPPort, or a Command run in
// the container.
type Check struct {
	// HTTPPath ("/healthz") is requested on HTTPPort; a status below 400 is
	// healthy. Redirects are not followed.
	HTTPPath string
	HTTPPort int
	// TCPPort is healthy when it accepts a connection.
	TCPPort int
	// Command (argv) runs in the container; exit status 0 is healthy.
	Command []string
	// Interval is the time from the end of one probe to the start of the
	// next; the first probe runs at once.
	Interval time.Duration
	// Timeout bounds one probe.
	Timeout time.Duration
	// StartPeriod is the time after the container starts in which failures
	// do not count (a success still makes it healthy).
	StartPeriod time.Duration
	// Retries is how many failures in a row make the container unhealthy.
	Retries int
}

// Validate returns an error wrapping ErrInvalidCheck and naming the field if
// c is not a usable check: exactly one kind, ports 1..65535, a path starting
// with "/", no negative durations or retries.
func (c Check) Validate() error {
	kinds := 0
	if c.HTTPPath != "" || c.HTTPPort != 0 {
		kinds++
	}
	if c.TCPPort != 0 {
		kinds++
	}
	if len(c.Command) > 0 {
		kinds++
	}
	switch {
	case kinds == 0:
		return fmt.Errorf("%w: one of httpPath, tcpPort and command is required", ErrInvalidCheck)
	case kinds > 1:
		return fmt.Errorf("%w: only one of httpPath, tcpPort and command may be set", ErrInvalidCheck)
	}
	switch {
	case c.HTTPPath != "" || c.HTTPPort != 0:
		if len(c.HTTPPath) == 0 || c.HTTPPath[0] != '/' {
			return fmt.Errorf("%w: httpPath %q: must start with /", ErrInvalidCheck, c.HTTPPath)
		}
		for _, r := range c.HTTPPath {
			if r <= ' ' || r == 0x7f {
				return fmt.Errorf("%w: httpPath %q: no spaces or control characters", ErrInvalidCheck, c.HTTPPath)
			}
		}
		if err := checkPort("httpPort", c.HTTPPort); err != nil {
			return err
		}
	case c.TCPPort != 0:
		if err := checkPort("tcpPort", c.TCPPort); err != nil {
			return err
		}
	default:
		if c.Command[0] == "" {
			return fmt.Errorf("%w: command: the program name is empty", ErrInvalidCheck)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"interval", c.Interval}, {"timeout", c.Timeout}, {"startPeriod", c.StartPeriod}} {
		if d.v < 0 {
			return fmt.Errorf("%w: %s %v: must not be negative", ErrInvalidCheck, d.name, d.v)
		}
	}
	if c.Retries < 0 {
		return fmt.Errorf("%w: retries %d: must not be negative", ErrInvalidCheck, c.Retries)
	}
	return nil
}

func checkPort(field string, port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("%w: %s %d: must be 1..65535", ErrInvalidCheck, field, port)
	}
	return nil
}

// WithDefaults returns c with a zero Interval, Timeout or Retries replaced by
// DefaultInterval, DefaultTimeout or DefaultRetries.
func (c Check) WithDefaults() Check {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Retries == 0 {
		c.Retries = DefaultRetries
	}
	return c
}

// Status is a container's health.
type Status string

// Status values.
const (
	StatusStarting  Status = "starting"  // no success yet, and not yet Retries counted failures
	StatusHealthy   Status = "healthy"   // the last probe passed
	StatusUnhealthy Status = "unhealthy" // Retries counted failures in a row
)

// Target is the container a check probes.
type Target struct {
	// Addr is the container's address, for HTTP and TCP checks.
	Addr netip.Addr
	// Exec runs argv in the container and returns its exit code and output,
	// for Command checks. It must return when ctx is done.
	Exec func(ctx context.Context, argv []string) (exitCode int, output string, err error)
	// StartedAt is when the container started, for StartPeriod; zero means
	// when Watch is called.
	StartedAt time.Time
}

// Result is the state of one watched container.
type Result struct {
	Status Status
	// FailingStreak counts the failures in a row that counted (outside the
	// start period).
	FailingStreak int
	// LastOutput describes the last probe: the HTTP status, the error, or
	// the command's output (at most MaxOutputBytes).
	LastOutput string
	// LastCheck is when the last probe ended; zero before the first.
	LastCheck time.Time
}
