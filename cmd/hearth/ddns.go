package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/hearthbox/hearth/agent/api"
)

// ddnsCommands are the ddns group's lines of the command table.
func ddnsCommands() []command {
	return []command{
		{"ddns status", "", "the public name, address, last update and error, the LAN name, and what to do", (*cli).ddnsStatus},
		{"ddns set", "--provider rfc2136|desec|duckdns|cloudflare --zone zone [--name name] [--ttl seconds] [--cred key=value]... [--cred-file key=file]... [--checker url] [--off]",
			"keep a public name at the box's address through a DNS provider", (*cli).ddnsSet},
	}
}

func (c *cli) ddnsStatus(ctx context.Context, args []string) error {
	fs := c.flags("ddns status")
	if _, err := parse(fs, "ddns status", args, nil, nil); err != nil {
		return err
	}
	st, err := c.api().DDNSStatus(ctx)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(st)
	}
	c.showDDNS(st)
	return nil
}

func (c *cli) ddnsSet(ctx context.Context, args []string) error {
	const name = "ddns set"
	fs := c.flags(name)
	provider := fs.String("provider", "", "the DNS provider: rfc2136, desec, duckdns or cloudflare")
	zone := fs.String("zone", "", "the zone at the provider (example.net, myhome.dedyn.io)")
	host := fs.String("name", "@", "the name to keep, relative to the zone (@: the zone itself)")
	ttl := fs.Int("ttl", 0, "the records' TTL in seconds, at most 300 (default 300)")
	checker := fs.String("checker", "", "an outside service that tells whether port 443 answers (https URL)")
	off := fs.Bool("off", false, "keep the settings but stop updating")
	var creds, credFiles stringList
	fs.Var(&creds, "cred", "a provider setting, key=value (rfc2136: server, key_name, algorithm; duckdns: domain)")
	fs.Var(&credFiles, "cred-file", "a provider secret read from a file, key=file (- reads stdin): token, api_token, secret")
	if _, err := parse(fs, name, args, nil, nil); err != nil {
		return err
	}
	req := api.SetDDNSRequest{Enabled: !*off, Provider: *provider, Zone: *zone, Name: *host, TTL: *ttl, CheckerURL: *checker}
	if *provider == "" || *zone == "" {
		if !*off {
			return &usageError{cmd: name, msg: "--provider and --zone are required"}
		}
		cur, err := c.api().DDNSStatus(ctx)
		if err != nil {
			return err
		}
		s := cur.Settings
		req = api.SetDDNSRequest{Provider: s.Provider, Zone: s.Zone, Name: s.Name, TTL: s.TTL, CheckerURL: s.CheckerURL}
	}
	for _, kv := range creds {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return &usageError{cmd: name, msg: fmt.Sprintf("--cred %q: want key=value", kv)}
		}
		if req.Credentials == nil {
			req.Credentials = map[string]string{}
		}
		req.Credentials[k] = v
	}
	for _, kf := range credFiles {
		k, path, ok := strings.Cut(kf, "=")
		if !ok || k == "" || path == "" {
			return &usageError{cmd: name, msg: fmt.Sprintf("--cred-file %q: want key=file", kf)}
		}
		v, err := readSecret(path, os.Stdin)
		if err != nil {
			return fmt.Errorf("--cred-file %s: %w", k, err)
		}
		if req.Credentials == nil {
			req.Credentials = map[string]string{}
		}
		req.Credentials[k] = v
	}
	st, err := c.api().SetDDNS(ctx, req)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(st)
	}
	c.showDDNS(st)
	return nil
}

// showDDNS prints the reachability page.
func (c *cli) showDDNS(st api.DDNSStatus) {
	tw := newTable(c.stdout)
	s, u := st.Settings, st.Update
	switch {
	case s.Provider == "":
		fmt.Fprintf(tw, "public name:\tnone ('hearth ddns set --provider desec --zone myhome.dedyn.io --cred-file token=-' sets one up)\n")
	default:
		fqdn := u.FQDN
		if fqdn == "" {
			fqdn = strings.TrimSuffix(s.Zone, ".")
			if n := strings.TrimSuffix(s.Name, "."); n != "" && n != "@" {
				fqdn = n + "." + fqdn
			}
		}
		state := "on"
		if !s.Enabled {
			state = "off"
		}
		ttl := "300 s"
		if s.TTL > 0 {
			ttl = fmt.Sprintf("%d s", s.TTL)
		}
		fmt.Fprintf(tw, "public name:\t%s (%s through %s, TTL %s)\n", fqdn, state, s.Provider, ttl)
		fmt.Fprintf(tw, "credentials:\t%s (not shown)\n", dash(strings.Join(s.CredentialKeys, ", ")))
	}
	if s.Enabled {
		addrs := strings.Join(nonEmpty(u.IPv4, u.IPv6), ", ")
		fmt.Fprintf(tw, "address:\t%s\n", dash(addrs))
		verified := ""
		if !u.LastUpdate.IsZero() {
			verified = " (not yet seen by the zone's servers)"
			if u.Verified {
				verified = " (verified at the zone's servers)"
			}
		}
		fmt.Fprintf(tw, "last update:\t%s%s\n", c.when(u.LastUpdate), verified)
		fmt.Fprintf(tw, "last check:\t%s\n", c.when(u.LastCheck))
		lastErr := dash(u.LastError)
		if u.Failures > 1 {
			lastErr += fmt.Sprintf(" (%d times in a row)", u.Failures)
		}
		fmt.Fprintf(tw, "last error:\t%s\n", lastErr)
		fmt.Fprintf(tw, "next try:\t%s\n", c.when(u.NextTry))
		if r := st.Reach; r != nil {
			resolves := "does not resolve to the box's address"
			if r.Resolves {
				resolves = "resolves to the box's address"
			}
			fmt.Fprintf(tw, "reachable:\t%s; port 443 %s (checked %s)\n", resolves, r.Port443, c.when(r.Checked))
		}
	}
	lan := st.MDNS.State
	switch st.MDNS.State {
	case "running", "probing":
		lan = fmt.Sprintf("%s.local (%s on %s)", st.MDNS.Name, st.MDNS.State, dash(strings.Join(st.MDNS.Interfaces, ", ")))
	}
	if st.MDNS.Detail != "" {
		lan += ": " + st.MDNS.Detail
	}
	fmt.Fprintf(tw, "lan name:\t%s\n", dash(lan))
	_ = tw.Flush()
	if len(st.Advice) > 0 {
		fmt.Fprintln(c.stdout, "\nWhat you can do:")
		for _, a := range st.Advice {
			fmt.Fprintf(c.stdout, "  - %s\n", a)
		}
	}
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
