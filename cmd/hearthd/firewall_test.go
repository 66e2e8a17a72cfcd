package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPublicPorts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		addrs []string
		want  []uint16
		err   bool
	}{
		{"box defaults", []string{":80", ":443"}, []uint16{80, 443}, false},
		{"development: loopback only", []string{"127.0.0.1:8880", "127.0.0.1:8443", "localhost:8080", "[::1]:1"}, nil, false},
		{"one address", []string{"192.168.1.5:8080"}, []uint16{8080}, false},
		{"no port", []string{"192.168.1.5"}, nil, true},
		{"port zero", []string{":0"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := publicPorts(tc.addrs...)
			if (err != nil) != tc.err {
				t.Fatalf("got error %v, want error %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ports (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFirewallFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		enabled bool
		err     string
	}{
		{"off by default", nil, false, ""},
		{"on", []string{"--firewall"}, true, ""},
		{"bad admin port", []string{"--firewall", "--admin-ports", "22,ssh"}, false, `--admin-ports: "ssh" must be a port number 1-65535`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseFlags(tc.args, nil)
			if err != nil {
				t.Fatal(err)
			}
			fw, err := newFirewall(cfg, nil)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Errorf("got %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || (fw != nil) != tc.enabled {
				t.Errorf("got firewall %v, %v, want enabled %v", fw, err, tc.enabled)
			}
		})
	}
}
