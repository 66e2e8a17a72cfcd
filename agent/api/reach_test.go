package api_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

func TestReachRoundTrip(t *testing.T) {
	when := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	f := &apitest.Fake{DDNS: api.DDNSStatus{
		Settings: api.DDNSSettings{Enabled: true, Provider: "desec", Zone: "myhome.dedyn.io", Name: "@", CredentialKeys: []string{"token"}},
		Update:   api.DDNSUpdate{FQDN: "myhome.dedyn.io.", IPv4: "198.51.100.7", LastUpdate: when, Verified: true},
		MDNS:     api.MDNSStatus{State: "running", Name: "hearth", Interfaces: []string{"eth0"}},
		Reach:    &api.ReachCheck{Checked: when, Resolves: true, Resolved: []string{"198.51.100.7"}, Port443: "unchecked"},
	}}
	c := client(t, server(t, f))
	ctx := context.Background()
	got, err := c.DDNSStatus(ctx)
	if err != nil {
		t.Fatalf("DDNSStatus: %v", err)
	}
	if diff := cmp.Diff(f.DDNS, got); diff != "" {
		t.Errorf("DDNSStatus (-want +got):\n%s", diff)
	}
	req := api.SetDDNSRequest{Enabled: true, Provider: "rfc2136", Zone: "example.net", Name: "home", TTL: 60,
		Credentials: map[string]string{"server": "ns1.example.net", "key_name": "k.", "secret": "c2VjcmV0"}}
	got, err = c.SetDDNS(ctx, req)
	if err != nil {
		t.Fatalf("SetDDNS: %v", err)
	}
	want := api.DDNSSettings{Enabled: true, Provider: "rfc2136", Zone: "example.net", Name: "home", TTL: 60, CredentialKeys: []string{"key_name", "secret", "server"}}
	if diff := cmp.Diff(want, got.Settings); diff != "" {
		t.Errorf("SetDDNS settings (-want +got):\n%s", diff)
	}
	calls := f.Calls()
	if last := calls[len(calls)-1]; last.Method != "SetDDNS" || !cmp.Equal(last.Args, []any{req}) || last.Actor != wantActor(t) {
		t.Errorf("got call %+v, want SetDDNS with the request by %s", last, wantActor(t))
	}
}

func TestReachErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"invalid settings", fmt.Errorf("credentials.token: required for desec: %w", api.ErrInvalid), api.ErrInvalid},
		{"not set up", fmt.Errorf("reachability is not set up: %w", api.ErrUnavailable), api.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &apitest.Fake{Err: map[string]error{"SetDDNS": tt.err, "DDNSStatus": tt.err}}
			c := client(t, server(t, f))
			if _, err := c.SetDDNS(context.Background(), api.SetDDNSRequest{Provider: "desec"}); !errors.Is(err, tt.want) {
				t.Errorf("SetDDNS: got %v, want %v", err, tt.want)
			}
			if _, err := c.DDNSStatus(context.Background()); !errors.Is(err, tt.want) {
				t.Errorf("DDNSStatus: got %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("unknown field refused", func(t *testing.T) {
		sock := server(t, &apitest.Fake{})
		a := raw(t, sock, "PUT", "/v1/ddns", "application/json", `{"provider":"desec","password":"x"}`)
		if a.status != 400 {
			t.Errorf("got %d %s, want 400", a.status, a.body)
		}
	})
}
