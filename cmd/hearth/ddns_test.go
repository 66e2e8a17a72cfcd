package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

// ddnsSample is a box whose name is kept up to date.
func ddnsSample(f *apitest.Fake) {
	f.DDNS = api.DDNSStatus{
		Settings: api.DDNSSettings{Enabled: true, Provider: "rfc2136", Zone: "example.net", Name: "home", TTL: 60,
			CredentialKeys: []string{"key_name", "secret", "server"}},
		Update: api.DDNSUpdate{FQDN: "home.example.net.", IPv4: "198.51.100.7", IPv6: "2001:db8::7",
			LastCheck: apitest.T0.Add(-2 * time.Minute), LastUpdate: apitest.T0.Add(-3 * time.Hour), Verified: true, NextTry: apitest.T0.Add(3 * time.Minute)},
		MDNS:  api.MDNSStatus{State: "running", Name: "hearth", Interfaces: []string{"eth0"}},
		Reach: &api.ReachCheck{Checked: apitest.T0.Add(-10 * time.Minute), Resolves: true, Resolved: []string{"198.51.100.7"}, Port443: "open"},
	}
}

// ddnsFailing is a box behind carrier-grade NAT whose provider refuses
// the key.
func ddnsFailing(f *apitest.Fake) {
	ddnsSample(f)
	f.DDNS.Update.LastError = "set home.example.net.: update example.net.: server answered NOTAUTH: dns server rejected the request"
	f.DDNS.Update.Failures = 3
	f.DDNS.Update.Verified = false
	f.DDNS.Update.NextTry = apitest.T0.Add(4 * time.Minute)
	f.DDNS.CGNAT = true
	f.DDNS.MDNS = api.MDNSStatus{State: "deferred", Name: "hearth", Detail: "avahi-daemon (pid 412) answers mDNS on this host; Hearth leaves it to avahi"}
	f.DDNS.Reach = nil
	f.DDNS.Advice = []string{"Your internet provider shares one public IPv4 address between several customers (carrier-grade NAT).",
		"The last update failed; check the provider settings (hearth ddns set) and the error above. Hearth tries again by itself."}
}

func TestDDNSOutput(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *apitest.Fake)
		args  []string
	}{
		{"ddns_status", ddnsSample, []string{"ddns", "status"}},
		{"ddns_status_failing", ddnsFailing, []string{"ddns", "status"}},
		{"ddns_status_none", func(f *apitest.Fake) { f.DDNS.MDNS = api.MDNSStatus{State: "off", Detail: "--mdns=false"} }, []string{"ddns", "status"}},
		{"ddns_set", nil, []string{"ddns", "set", "--provider", "duckdns", "--zone", "myhome.duckdns.org", "--cred", "domain=myhome"}},
		{"ddns_set_usage", nil, []string{"ddns", "set", "--zone", "example.net"}},
		{"help_ddns", nil, []string{"ddns", "--help"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := apitest.Sample()
			if tt.setup != nil {
				tt.setup(f)
			}
			golden(t, tt.name, hearth(hearthd(t, f), tt.args...))
		})
	}
}

func TestDDNSCalls(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "tsig")
	if err := os.WriteFile(secret, []byte("c2VjcmV0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup func(f *apitest.Fake)
		args  []string
		want  api.SetDDNSRequest
	}{
		{"rfc2136 with a secret file", nil,
			[]string{"ddns", "set", "--provider", "rfc2136", "--zone", "example.net", "--name", "home", "--ttl", "60",
				"--cred", "server=ns1.example.net:53", "--cred", "key_name=hearth.", "--cred-file", "secret=" + secret},
			api.SetDDNSRequest{Enabled: true, Provider: "rfc2136", Zone: "example.net", Name: "home", TTL: 60,
				Credentials: map[string]string{"server": "ns1.example.net:53", "key_name": "hearth.", "secret": "c2VjcmV0"}}},
		{"off keeps the settings", ddnsSample, []string{"ddns", "set", "--off"},
			api.SetDDNSRequest{Provider: "rfc2136", Zone: "example.net", Name: "home", TTL: 60}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := apitest.Sample()
			if tt.setup != nil {
				tt.setup(f)
			}
			r := hearth(hearthd(t, f), tt.args...)
			var got []any
			for _, c := range f.Calls() {
				if c.Method == "SetDDNS" {
					got = c.Args
				}
			}
			if diff := cmp.Diff([]any{tt.want}, got); diff != "" {
				t.Errorf("SetDDNS request (-want +got):\n%s\n%+v", diff, r)
			}
			if strings.Contains(r.stdout, "c2VjcmV0") {
				t.Errorf("output shows the secret:\n%s", r.stdout)
			}
		})
	}
}
