package duckdns

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
)

const (
	// suffix is the zone DuckDNS names live in.
	suffix = "duckdns.org"
	// challengePrefix starts the one name (besides <sub>.duckdns.org) where
	// this package writes: the ACME DNS-01 challenge name.
	challengePrefix = "_acme-challenge."
	// TTL is the TTL DuckDNS gives its records; the TTL of input records is
	// ignored.
	TTL = 60 * time.Second
	// maxTXT is the longest TXT value accepted (one DNS character-string).
	maxTXT = 255
)

// Provider manages the records of a DuckDNS name. Set Token (and Domain);
// the other fields have working zero values. Use it through a pointer and do
// not copy it; it is safe for concurrent use.
//
// The zone given to each method is either "<sub>.duckdns.org" (records are
// then named "@" and "_acme-challenge") or "duckdns.org" (records are named
// "<sub>" and "_acme-challenge.<sub>"), with or without the trailing dot.
// AppendRecords and SetRecords do the same, since DuckDNS holds one value
// per type: appending replaces the value.
type Provider struct {
	// Token is the DuckDNS account token. It is never printed: String,
	// GoString and LogValue redact it, and errors never show the update URL
	// that carries it.
	Token string `json:"token"`
	// Domain is the DuckDNS name this provider may change, "myhome" or
	// "myhome.duckdns.org". When set, records of other names are refused;
	// it is required to read the zone "duckdns.org".
	Domain string `json:"domain,omitempty"`
	// BaseURL is DuckDNS's web root; empty means DefaultBaseURL. It must be
	// https, or http to a loopback address (tests).
	BaseURL string `json:"base_url,omitempty"`
	// Nameservers are the DNS servers (host:port) asked for the current
	// records; empty means DuckDNS's own, ns1 to ns3.duckdns.org:53.
	Nameservers []string `json:"nameservers,omitempty"`
	// HTTPClient sends the requests; nil means a client with a 30 s timeout.
	HTTPClient *http.Client `json:"-"`
	// MaxRetryWait is the longest Retry-After this provider waits for when
	// DuckDNS rate-limits it (429); a longer one fails the call at once with
	// ErrRateLimited. Zero means 10 s.
	MaxRetryWait time.Duration `json:"max_retry_wait,omitempty"`

	// mu serialises the calls that change records: several of them read
	// the current records first, or need two updates in a row.
	mu sync.Mutex
}

// Interface guards: the libdns interfaces Hearth relies on.
var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordSetter   = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ slog.LogValuer        = (*Provider)(nil)
)

// redacted stands in for a secret in printed output.
func redacted(secret string) string {
	if secret == "" {
		return ""
	}
	return "[REDACTED]"
}

// String describes the provider without its token.
func (p *Provider) String() string {
	return fmt.Sprintf("duckdns.Provider{Domain: %q, BaseURL: %q, Token: %q}", p.Domain, p.BaseURL, redacted(p.Token))
}

// GoString is String, so that %#v does not print the token either.
func (p *Provider) GoString() string { return p.String() }

// LogValue describes the provider to log/slog without its token.
func (p *Provider) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("provider", "duckdns"),
		slog.String("domain", p.Domain),
		slog.String("base_url", p.BaseURL),
		slog.String("token", redacted(p.Token)),
	)
}

// GetRecords returns the A, AAAA and challenge TXT records of the DuckDNS
// name, as DuckDNS's name servers serve them.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	out, err := p.getRecords(ctx, zone)
	if err != nil {
		return nil, fmt.Errorf("duckdns: get records of %s: %w", strings.TrimSuffix(zone, "."), err)
	}
	return out, nil
}

func (p *Provider) getRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	z, err := zoneOf(zone)
	if err != nil {
		return nil, err
	}
	want, err := p.domainSub()
	if err != nil {
		return nil, err
	}
	pl := place{zone: z, sub: strings.TrimSuffix(z, "."+suffix)}
	switch {
	case z == suffix && want == "":
		return nil, fmt.Errorf("field Domain is empty: it names the records to read in zone %s: %w", suffix, ErrInvalid)
	case z == suffix:
		pl.sub = want
	case want != "" && pl.sub != want:
		return nil, fmt.Errorf("zone %q is not %s.%s, the configured Domain: %w", zone, want, suffix, ErrInvalid)
	}
	cur, err := p.lookup(ctx, pl.host())
	if err != nil {
		return nil, err
	}
	return cur.records(pl), nil
}

// ttlOrDefault is the TTL DuckDNS served, or TTL if it served nothing.
func (cur current) ttlOrDefault() time.Duration {
	if cur.ttl == 0 {
		return TTL
	}
	return cur.ttl
}

// records returns what DuckDNS serves as libdns records.
func (cur current) records(pl place) []libdns.Record {
	ttl := cur.ttlOrDefault()
	var out []libdns.Record
	if cur.v4.IsValid() {
		out = append(out, record(pl, "A", cur.v4.String(), ttl))
	}
	if cur.v6.IsValid() {
		out = append(out, record(pl, "AAAA", cur.v6.String(), ttl))
	}
	if cur.txt != "" {
		out = append(out, record(pl, "TXT", cur.txt, ttl))
	}
	return out
}

// AppendRecords is SetRecords: DuckDNS holds one value per type, so an
// appended value replaces the one before (a stale ACME challenge value then
// never blocks a new one).
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out, err := p.setRecords(ctx, zone, recs)
	if err != nil {
		return nil, fmt.Errorf("duckdns: append records to %s: %w", strings.TrimSuffix(zone, "."), err)
	}
	return out, nil
}

// SetRecords writes the A, AAAA and challenge TXT values in recs, at most
// one value of each per name, and returns them with DuckDNS's TTL. The A
// and AAAA records of a name change in one update; its TXT in another.
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out, err := p.setRecords(ctx, zone, recs)
	if err != nil {
		return nil, fmt.Errorf("duckdns: set records in %s: %w", strings.TrimSuffix(zone, "."), err)
	}
	return out, nil
}

// values are the values wanted for one DuckDNS name.
type values struct {
	v4, v6, txt string
}

func (p *Provider) setRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	z, err := zoneOf(zone)
	if err != nil {
		return nil, err
	}
	ts, err := p.targets(z, recs, forWrite)
	if err != nil {
		return nil, err
	}
	var order []place
	want := map[place]*values{}
	for i, t := range ts {
		v, ok := want[t.place]
		if !ok {
			v = &values{}
			want[t.place] = v
			order = append(order, t.place)
		}
		slot := &v.txt
		switch t.typ {
		case "A":
			slot = &v.v4
		case "AAAA":
			slot = &v.v6
		}
		if *slot != "" && *slot != t.data {
			return nil, fmt.Errorf("record %d: a second %s value for %s: DuckDNS holds one: %w", i, t.typ, t.host(), ErrUnsupported)
		}
		*slot = t.data
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pl := range order {
		if err := p.write(ctx, pl, *want[pl]); err != nil {
			return nil, err
		}
	}
	out := make([]libdns.Record, 0, len(ts))
	for _, t := range ts {
		out = append(out, record(t.place, t.typ, t.data, TTL))
	}
	return out, nil
}

// write sends the wanted values of one name to DuckDNS.
func (p *Provider) write(ctx context.Context, pl place, v values) error {
	if v.txt != "" {
		if _, err := p.update(ctx, pl.sub, url.Values{"txt": {v.txt}}); err != nil {
			return err
		}
	}
	if v.v4 == "" && v.v6 == "" {
		return nil
	}
	q := url.Values{}
	if v.v4 != "" {
		q.Set("ip", v.v4)
	}
	if v.v6 != "" {
		q.Set("ipv6", v.v6)
		if v.v4 == "" {
			// Passing ipv6 turns off DuckDNS's detection of the IPv4
			// address; pass the current one so that it stays.
			cur, err := p.lookup(ctx, pl.host())
			if err != nil {
				return err
			}
			if cur.v4.IsValid() {
				q.Set("ip", cur.v4.String())
			} else {
				q.Set("ip", "")
			}
		}
	}
	lines, err := p.update(ctx, pl.sub, q)
	if err != nil {
		return err
	}
	return checkAnswer(lines, v)
}

// checkAnswer compares the addresses in a verbose "OK" answer (OK, IPv4,
// IPv6, UPDATED or NOCHANGE) with those sent; lines it cannot read are not
// held against DuckDNS.
func checkAnswer(lines []string, v values) error {
	for i, sent := range []string{v.v4, v.v6} {
		if sent == "" || len(lines) <= i+1 {
			continue
		}
		got, err := netip.ParseAddr(lines[i+1])
		if err == nil && got.String() != sent {
			return fmt.Errorf("DuckDNS reports the address %s after it was sent %s", got, sent)
		}
	}
	return nil
}
