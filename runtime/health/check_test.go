package health

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		check Check
		want  string // a word the error names; "" for valid
	}{
		{"http", Check{HTTPPath: "/healthz", HTTPPort: 8080}, ""},
		{"http with query", Check{HTTPPath: "/health?full=1", HTTPPort: 80}, ""},
		{"tcp", Check{TCPPort: 5432, Interval: time.Second, Timeout: time.Second, StartPeriod: time.Minute, Retries: 5}, ""},
		{"command", Check{Command: []string{"pg_isready", "-q"}}, ""},
		{"none", Check{Interval: time.Second}, "one of"},
		{"http and tcp", Check{HTTPPath: "/", HTTPPort: 80, TCPPort: 80}, "only one"},
		{"tcp and command", Check{TCPPort: 80, Command: []string{"true"}}, "only one"},
		{"http port only", Check{HTTPPort: 80}, "httpPath"},
		{"http path only", Check{HTTPPath: "/"}, "httpPort"},
		{"relative path", Check{HTTPPath: "healthz", HTTPPort: 80}, "httpPath"},
		{"path with space", Check{HTTPPath: "/a b", HTTPPort: 80}, "httpPath"},
		{"path with newline", Check{HTTPPath: "/a\r\nX: y", HTTPPort: 80}, "httpPath"},
		{"http port zero", Check{HTTPPath: "/", HTTPPort: 0}, "httpPort"},
		{"http port high", Check{HTTPPath: "/", HTTPPort: 65536}, "httpPort"},
		{"tcp port negative", Check{TCPPort: -1}, "tcpPort"},
		{"tcp port high", Check{TCPPort: 70000}, "tcpPort"},
		{"empty program", Check{Command: []string{"", "x"}}, "command"},
		{"negative interval", Check{TCPPort: 1, Interval: -time.Second}, "interval"},
		{"negative timeout", Check{TCPPort: 1, Timeout: -1}, "timeout"},
		{"negative start period", Check{TCPPort: 1, StartPeriod: -1}, "startPeriod"},
		{"negative retries", Check{TCPPort: 1, Retries: -1}, "retries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check.Validate()
			if tc.want == "" {
				if err != nil {
					t.Errorf("got error %v, want none", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidCheck) {
				t.Fatalf("got error %v, want ErrInvalidCheck", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %q, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Check
		want Check
	}{
		{"zero", Check{TCPPort: 1}, Check{TCPPort: 1, Interval: 10 * time.Second, Timeout: 5 * time.Second, Retries: 3}},
		{
			"set",
			Check{TCPPort: 1, Interval: time.Second, Timeout: 2 * time.Second, Retries: 7, StartPeriod: time.Minute},
			Check{TCPPort: 1, Interval: time.Second, Timeout: 2 * time.Second, Retries: 7, StartPeriod: time.Minute},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.in.WithDefaults()); diff != "" {
				t.Errorf("WithDefaults (-want +got):\n%s", diff)
			}
		})
	}
}
