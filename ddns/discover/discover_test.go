package discover

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// static is a Source with fixed answers: sources are the seam of this
// package, and these tables are about voting, not transports (STUN and
// echo have their own tests against real servers).
type static struct {
	name string
	v4   string // "" means ErrUnsupported, "!" a failure
	v6   string
}

func (s static) Name() string { return s.name }

func (s static) Lookup(_ context.Context, f Family) (netip.Addr, error) {
	v := s.v4
	if f == IPv6 {
		v = s.v6
	}
	switch v {
	case "":
		return netip.Addr{}, ErrUnsupported
	case "!":
		return netip.Addr{}, errors.New("connection refused")
	}
	return netip.MustParseAddr(v), nil
}

type router string

func (r router) ExternalAddr(context.Context) (netip.Addr, error) {
	if r == "" {
		return netip.Addr{}, errors.New("no IGD found")
	}
	return netip.MustParseAddr(string(r)), nil
}

func TestDiscover(t *testing.T) {
	tests := []struct {
		name       string
		sources    []static
		router     router
		want4      string
		want6      string
		err4, err6 error
		cgnat      bool
		advice     string
	}{
		{
			name:    "all agree",
			sources: []static{{"a", "198.51.100.7", "2001:db8::7"}, {"b", "198.51.100.7", "2001:db8::7"}, {"c", "198.51.100.7", ""}},
			router:  "198.51.100.7",
			want4:   "198.51.100.7", want6: "2001:db8::7",
		},
		{
			name:    "disagreeing sources: the majority wins",
			sources: []static{{"a", "198.51.100.7", "!"}, {"b", "198.51.100.9", "2001:db8::7"}, {"c", "198.51.100.7", "2001:db8::7"}},
			want4:   "198.51.100.7", want6: "2001:db8::7",
		},
		{
			name:    "a tie elects no one",
			sources: []static{{"a", "198.51.100.7", ""}, {"b", "198.51.100.9", ""}},
			err4:    ErrNoMajority, err6: ErrNoAnswer,
		},
		{
			name:    "tie among the first two, third breaks it",
			sources: []static{{"a", "198.51.100.7", ""}, {"b", "198.51.100.9", ""}, {"c", "198.51.100.9", ""}},
			want4:   "198.51.100.9", err6: ErrNoAnswer,
		},
		{
			name:    "IPv6 only",
			sources: []static{{"a", "!", "2001:db8::1"}, {"b", "", "2001:db8::1"}},
			router:  "",
			want6:   "2001:db8::1", err4: ErrNoAnswer,
		},
		{
			name:    "carrier-grade NAT: router WAN in 100.64.0.0/10",
			sources: []static{{"router", "100.72.1.2", ""}, {"stun", "198.51.100.7", ""}, {"echo", "198.51.100.7", ""}},
			router:  "100.72.1.2",
			want4:   "198.51.100.7", err6: ErrNoAnswer,
			cgnat: true, advice: AdviceCGNAT,
		},
		{
			name:    "carrier-grade NAT: router WAN public but not what the outside sees",
			sources: []static{{"stun", "198.51.100.7", ""}, {"echo", "198.51.100.7", ""}},
			router:  "203.0.113.5",
			want4:   "198.51.100.7", err6: ErrNoAnswer,
			cgnat: true, advice: AdviceCGNAT,
		},
		{
			name:    "double NAT: router WAN private",
			sources: []static{{"stun", "198.51.100.7", ""}},
			router:  "192.168.178.20",
			want4:   "198.51.100.7", err6: ErrNoAnswer,
			cgnat: true, advice: AdviceDoubleNAT,
		},
		{
			name:    "all failing",
			sources: []static{{"a", "!", "!"}, {"b", "!", ""}},
			router:  "",
			err4:    ErrNoAnswer, err6: ErrNoAnswer,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srcs []Source
			for _, s := range tt.sources {
				srcs = append(srcs, s)
			}
			d, err := New(Config{Sources: srcs, Router: tt.router})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			r, err := d.Discover(t.Context())
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if got := addrString(r.IPv4); got != tt.want4 {
				t.Errorf("IPv4: got %q, want %q", got, tt.want4)
			}
			if got := addrString(r.IPv6); got != tt.want6 {
				t.Errorf("IPv6: got %q, want %q", got, tt.want6)
			}
			if !errors.Is(r.Err4, tt.err4) || (tt.err4 == nil) != (r.Err4 == nil) {
				t.Errorf("Err4: got %v, want %v", r.Err4, tt.err4)
			}
			if !errors.Is(r.Err6, tt.err6) || (tt.err6 == nil) != (r.Err6 == nil) {
				t.Errorf("Err6: got %v, want %v", r.Err6, tt.err6)
			}
			if r.CGNAT != tt.cgnat || r.Advice != tt.advice {
				t.Errorf("got CGNAT %v advice %q, want %v %q", r.CGNAT, r.Advice, tt.cgnat, tt.advice)
			}
			if got, want := len(r.Votes), 2*len(tt.sources); got != want {
				t.Errorf("got %d votes, want %d", got, want)
			}
		})
	}
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func TestVotesSortedAndExplained(t *testing.T) {
	r := Combine([]Vote{
		{Source: "b", Family: IPv6, Err: "timeout"},
		{Source: "b", Family: IPv4, Addr: netip.MustParseAddr("198.51.100.1")},
		{Source: "a", Family: IPv4, Addr: netip.MustParseAddr("198.51.100.1")},
	}, netip.Addr{})
	want := []Vote{
		{Source: "a", Family: IPv4, Addr: netip.MustParseAddr("198.51.100.1")},
		{Source: "b", Family: IPv4, Addr: netip.MustParseAddr("198.51.100.1")},
		{Source: "b", Family: IPv6, Err: "timeout"},
	}
	if diff := cmp.Diff(want, r.Votes, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("votes (-want +got):\n%s", diff)
	}
}

func TestDiscoverCancelled(t *testing.T) {
	d, err := New(Config{Sources: []Source{static{"a", "198.51.100.1", ""}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := d.Discover(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want %v", err, context.Canceled)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name  string
		new   func() error
		field string
	}{
		{"no sources", func() error { _, err := New(Config{}); return err }, "sources"},
		{"nil source", func() error { _, err := New(Config{Sources: []Source{nil}}); return err }, "sources[0]"},
		{"negative timeout", func() error {
			_, err := New(Config{Sources: []Source{static{}}, Timeout: -1})
			return err
		}, "timeout"},
		{"stun without host", func() error { _, err := NewSTUN(STUNConfig{Server: ":3478"}); return err }, "stun server"},
		{"echo over http", func() error { _, err := NewEcho(EchoConfig{URL: "http://api.ipify.org"}); return err }, "echo url"},
		{"echo not a URL", func() error { _, err := NewEcho(EchoConfig{URL: "ipify"}); return err }, "echo url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.new()
			if !errors.Is(err, ErrInvalidConfig) || len(err.Error()) < len(tt.field) || err.Error()[:len(tt.field)] != tt.field {
				t.Errorf("got %v, want %v naming %s", err, ErrInvalidConfig, tt.field)
			}
		})
	}
}
