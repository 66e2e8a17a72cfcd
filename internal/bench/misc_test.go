package main

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLeaseIP(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"10.234.0.2":         "hbench-ctr-other\r\neth0",
		"10.234.0.3":         "hbench-ctr-hbench-ctr-7\r\neth0",
		"last_reserved_ip.0": "10.234.0.3",
		"lock":               "",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		id      string
		want    netip.Addr
		wantErr bool
	}{
		{"leased", "hbench-ctr-hbench-ctr-7", netip.MustParseAddr("10.234.0.3"), false},
		{"not a prefix match", "hbench-ctr-hbench-ctr", netip.Addr{}, true},
		{"no lease", "hbench-ctr-none", netip.Addr{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := leaseIP(dir, tt.id)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	good := Config{OutDir: "/tmp/out", Runs: 25, Poll: 2 * time.Millisecond, CycleTimeout: time.Minute, LogDriver: "/usr/bin/bench"}
	tests := []struct {
		name    string
		tweak   func(*Config)
		wantErr string
	}{
		{"good", func(*Config) {}, ""},
		{"too few runs", func(c *Config) { c.Runs = 19 }, "runs 19"},
		{"no poll", func(c *Config) { c.Poll = 0 }, "poll 0s"},
		{"relative log driver", func(c *Config) { c.LogDriver = "bench" }, "log driver"},
		{"tcp docker host", func(c *Config) { c.DockerHost = "tcp://1.2.3.4:2375" }, "docker-host"},
		{"overlapping subnets", func(c *Config) { c.CTRSubnet = netip.MustParsePrefix("10.233.5.0/24") }, "must not overlap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.tweak(&c)
			_, err := c.withDefaults()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got error %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no benchmark named", nil, 2},
		{"unknown benchmark", []string{"disk"}, 2},
		{"unknown flag", []string{"-nope", "runtime"}, 2},
		{"too few runs", []string{"-runs", "3", "runtime"}, 1},
		{"agent: too few runs", []string{"-agent-runs", "1", "agent"}, 1},
		{"agent: two benchmarks", []string{"runtime", "agent"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			if got := run(tt.args, &out, &errs); got != tt.want {
				t.Errorf("got exit code %d, want %d (stderr: %s)", got, tt.want, errs.String())
			}
		})
	}
}
