package state

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDDNSRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openAt(t, path, Options{})
	if got, err := s.DDNS(); err != nil || !cmp.Equal(got, DDNS{}) {
		t.Fatalf("before any write: got %+v, %v; want the zero DDNS", got, err)
	}
	d := DDNS{Enabled: true, Provider: "rfc2136", Zone: "example.net", Name: "home", TTL: 60,
		Credentials: map[string]string{"server": "ns1.example.net:53", "key_name": "hearth.", "secret": "c2VjcmV0"}}
	if err := s.PutDDNS(d); err != nil {
		t.Fatalf("PutDDNS: %v", err)
	}
	before := writes(s)
	if err := s.PutDDNS(d); err != nil {
		t.Fatalf("PutDDNS again: %v", err)
	}
	if w := writes(s); w != before {
		t.Errorf("the same record again wrote %d pages, want none", w-before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, Options{})
	got, err := s.DDNS()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, got); diff != "" {
		t.Errorf("DDNS after reopening (-want +got):\n%s", diff)
	}
}

func TestDDNSValidated(t *testing.T) {
	tests := []struct {
		name  string
		d     DDNS
		field string
	}{
		{"unknown provider", DDNS{Provider: "route53"}, "provider"},
		{"enabled without provider", DDNS{Enabled: true, Zone: "a.b", Name: "@"}, "provider"},
		{"enabled without zone", DDNS{Enabled: true, Provider: "desec", Name: "@"}, "zone"},
		{"enabled without name", DDNS{Enabled: true, Provider: "desec", Zone: "a.b"}, "name"},
		{"ttl too long", DDNS{Provider: "desec", TTL: 3600}, "ttl"},
		{"zone with a space", DDNS{Provider: "desec", Zone: "a b"}, "zone"},
		{"credential key with a space", DDNS{Provider: "desec", Credentials: map[string]string{"a b": "x"}}, "credentials.a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, Options{})
			err := s.PutDDNS(tt.d)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.field+":") {
				t.Errorf("got %v, want %v naming %s", err, ErrInvalid, tt.field)
			}
		})
	}
}
