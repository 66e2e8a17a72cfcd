package state

import (
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestAddonSecretsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openAt(t, path, Options{})
	if _, err := s.AddonSecrets("notes"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before any write: got %v, want ErrNotFound", err)
	}
	want := AddonSecrets{Passwords: map[string]string{"postgresql": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "redis": "abcdefghijklmnop1234"}, Subnet: netip.MustParsePrefix("10.89.3.0/24")}
	if err := s.PutAddonSecrets("notes", want); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, Options{})
	got, err := s.AddonSecrets("notes")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
		t.Errorf("after reopening (-want +got):\n%s", diff)
	}
	for range 2 { // deleting twice is not an error
		if err := s.DeleteAddonSecrets("notes"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddonSecrets("notes"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: got %v, want ErrNotFound", err)
	}
}

func TestAddonSecretsValidated(t *testing.T) {
	for _, tc := range []struct {
		name, app string
		s         AddonSecrets
		field     string
	}{
		{"bad app", "Notes", AddonSecrets{}, "app"},
		{"unknown addon", "notes", AddonSecrets{Passwords: map[string]string{"mongodb": "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}}, "passwords.mongodb"},
		{"short password", "notes", AddonSecrets{Passwords: map[string]string{"redis": "short"}}, "passwords.redis"},
		{"subnet with host bits", "notes", AddonSecrets{Subnet: netip.MustParsePrefix("10.89.3.1/24")}, "subnet"},
		{"password with a quote", "notes", AddonSecrets{Passwords: map[string]string{"mysql": "ABCDEFGHIJKLMNOP'"}}, "passwords.mysql"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, Options{})
			err := s.PutAddonSecrets(tc.app, tc.s)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.field+":") {
				t.Errorf("got %v, want ErrInvalid naming %s", err, tc.field)
			}
		})
	}
}
