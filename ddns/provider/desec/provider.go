package desec

import (
	"context"
	"fmt"
	"github.com/hearthbox/hearth/ddns/provider/internal/dnsname"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
)

// Provider manages records of domains at deSEC. Set Token; the other fields
// have working zero values. Use it through a pointer and do not copy it; it is
// safe for concurrent use.
//
// The zone given to each method is the domain as registered at deSEC (for
// example "example.com" or "myhome.dedyn.io"), with or without the trailing
// dot.
type Provider struct {
	// Token is a deSEC API token ("Authorization: Token ..."). It is never
	// printed: String, GoString and LogValue redact it.
	Token string `json:"token"`
	// BaseURL is the API root; empty means DefaultBaseURL. It must be https,
	// or http to a loopback address (tests).
	BaseURL string `json:"base_url,omitempty"`
	// HTTPClient sends the requests; nil means a client with a 30 s timeout.
	HTTPClient *http.Client `json:"-"`
	// MaxRetryWait is the longest Retry-After this provider waits for when
	// deSEC rate-limits it (429); a longer one fails the call at once with
	// ErrRateLimited. Zero means 10 s.
	MaxRetryWait time.Duration `json:"max_retry_wait,omitempty"`

	// mu serialises the calls that read RRsets and write them back (all but
	// GetRecords), so that concurrent calls on this Provider do not undo
	// each other's changes. deSEC has no conditional writes, so changes made
	// elsewhere between the read and the write are overwritten.
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
	return fmt.Sprintf("desec.Provider{BaseURL: %q, Token: %q}", p.BaseURL, redacted(p.Token))
}

// GoString is String, so that %#v does not print the token either.
func (p *Provider) GoString() string { return p.String() }

// LogValue describes the provider to log/slog without its token.
func (p *Provider) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("provider", "desec"),
		slog.String("base_url", p.BaseURL),
		slog.String("token", redacted(p.Token)),
	)
}

// maxPages bounds how many pages of RRsets one listing reads (deSEC pages
// hold 500 RRsets).
const maxPages = 100

// GetRecords returns all records of zone, as libdns types (libdns.Address,
// libdns.TXT, ...), with names relative to the zone ("@" for the apex).
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	z, err := dnsname.Zone(zone)
	if err != nil {
		return nil, fmt.Errorf("desec: get records: %w", err)
	}
	sets, err := p.list(ctx, z)
	if err != nil {
		return nil, fmt.Errorf("desec: get records of %s: %w", z, err)
	}
	var out []libdns.Record
	for _, s := range sets {
		out = append(out, s.records()...)
	}
	return out, nil
}

// AppendRecords adds recs to their RRsets, creating RRsets that do not exist
// yet, and returns recs as they now stand in the zone. An existing RRset
// keeps its TTL (deSEC has one TTL per RRset); a new one gets the TTL of its
// first record here, raised to MinTTL. A record that already exists is left
// alone and returned like the others. All RRsets change in one request.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out, err := p.appendRecords(ctx, zone, recs)
	if err != nil {
		return nil, fmt.Errorf("desec: append records to %s: %w", strings.TrimSuffix(zone, "."), err)
	}
	return out, nil
}

func (p *Provider) appendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	z, err := dnsname.Zone(zone)
	if err != nil {
		return nil, err
	}
	es, err := entries(z, recs, forWrite)
	if err != nil || len(es) == 0 {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	sets, err := p.list(ctx, z)
	if err != nil {
		return nil, err
	}
	current := make(map[rrsetKey]rrset, len(sets))
	for _, s := range sets {
		current[s.key()] = s
	}
	var changed []rrsetKey
	out := make([]libdns.Record, 0, len(es))
	for _, e := range es {
		s, ok := current[e.key]
		if !ok {
			s = rrset{Subname: e.key.subname, Type: e.key.typ, TTL: e.ttl}
		}
		if !s.has(e.data) {
			if !slices.Contains(changed, e.key) {
				changed = append(changed, e.key)
			}
			s.Records = append(s.Records[:len(s.Records):len(s.Records)], wire(e.key.typ, e.data))
			current[e.key] = s
		}
		out = append(out, record(e.key.subname, e.key.typ, s.TTL, e.data))
	}
	if len(changed) == 0 {
		return out, nil
	}
	body := make([]rrset, 0, len(changed))
	for _, k := range changed {
		body = append(body, current[k])
	}
	if err := p.write(ctx, z, http.MethodPut, body); err != nil {
		return nil, err
	}
	return out, nil
}

// SetRecords makes each (name, type) pair in recs hold exactly the given
// values, in one request that deSEC applies whole or not at all, and returns
// the records written. Each RRset gets the smallest TTL among its records,
// raised to MinTTL.
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out, err := p.setRecords(ctx, zone, recs)
	if err != nil {
		return nil, fmt.Errorf("desec: set records in %s: %w", strings.TrimSuffix(zone, "."), err)
	}
	return out, nil
}

func (p *Provider) setRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	z, err := dnsname.Zone(zone)
	if err != nil {
		return nil, err
	}
	es, err := entries(z, recs, forWrite)
	if err != nil || len(es) == 0 {
		return nil, err
	}
	var order []rrsetKey
	sets := make(map[rrsetKey]rrset)
	for _, e := range es {
		s, ok := sets[e.key]
		if !ok {
			order = append(order, e.key)
			s = rrset{Subname: e.key.subname, Type: e.key.typ, TTL: e.ttl, Records: []string{}}
		}
		s.TTL = min(s.TTL, e.ttl)
		if !s.has(e.data) {
			s.Records = append(s.Records, wire(e.key.typ, e.data))
		}
		sets[e.key] = s
	}
	body := make([]rrset, 0, len(order))
	var out []libdns.Record
	for _, k := range order {
		body = append(body, sets[k])
		out = append(out, sets[k].records()...)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.write(ctx, z, http.MethodPut, body); err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteRecords removes the records that match recs and returns them. A
// record matches on name and, where given, type, TTL (compared after raising
// it to MinTTL) and data. RRsets left empty are deleted; all changes go in
// one request.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out, err := p.deleteRecords(ctx, zone, recs)
	if err != nil {
		return nil, fmt.Errorf("desec: delete records from %s: %w", strings.TrimSuffix(zone, "."), err)
	}
	return out, nil
}

func (p *Provider) deleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	z, err := dnsname.Zone(zone)
	if err != nil {
		return nil, err
	}
	es, err := entries(z, recs, forDelete)
	if err != nil || len(es) == 0 {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	sets, err := p.list(ctx, z)
	if err != nil {
		return nil, err
	}
	var deleted []libdns.Record
	var body []rrset
	for _, s := range sets {
		keep := []string{}
		for _, v := range s.Records {
			hit := false
			for _, e := range es {
				if e.matches(s, v) {
					hit = true
					break
				}
			}
			if hit {
				deleted = append(deleted, record(s.Subname, s.Type, s.TTL, unwire(s.Type, v)))
			} else {
				keep = append(keep, v)
			}
		}
		if len(keep) != len(s.Records) {
			// PATCH without a TTL keeps the RRset's TTL; no records
			// deletes the RRset.
			body = append(body, rrset{Subname: s.Subname, Type: s.Type, Records: keep})
		}
	}
	if len(body) == 0 {
		return nil, nil
	}
	if err := p.write(ctx, z, http.MethodPatch, body); err != nil {
		return nil, err
	}
	return deleted, nil
}

// rrsetsPath is the path of a domain's RRsets below the API root.
func rrsetsPath(domain string) string {
	return "/domains/" + url.PathEscape(domain) + "/rrsets/"
}

// list reads all RRsets of domain, following deSEC's cursor pagination.
// The cursor parameter is always sent: without it deSEC refuses (400) to
// list a domain with more RRsets than fit on one page.
func (p *Provider) list(ctx context.Context, domain string) ([]rrset, error) {
	q := url.Values{"cursor": {""}}
	var all []rrset
	for range maxPages {
		var page []rrset
		h, err := p.call(ctx, http.MethodGet, rrsetsPath(domain), q, nil, &page)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		next, ok := nextCursor(h.Values("Link"))
		if !ok {
			return all, nil
		}
		q.Set("cursor", next)
	}
	return nil, fmt.Errorf("listing RRsets: more than %d pages", maxPages)
}

// write sends RRsets to deSEC's bulk endpoint with method (PUT for whole
// RRsets, PATCH for deletions).
func (p *Provider) write(ctx context.Context, domain, method string, sets []rrset) error {
	_, err := p.call(ctx, method, rrsetsPath(domain), nil, sets, nil)
	return err
}

// nextCursor finds the cursor of the rel="next" link in Link headers. Only
// the cursor is taken; the request goes to BaseURL as always, so a link to
// another host cannot receive the token.
func nextCursor(links []string) (string, bool) {
	for _, header := range links {
		for part := range strings.SplitSeq(header, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			if !ok || !isNext(params) {
				continue
			}
			target = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(target), "<"), ">")
			u, err := url.Parse(target)
			if err != nil {
				continue
			}
			if c := u.Query().Get("cursor"); c != "" {
				return c, true
			}
		}
	}
	return "", false
}

func isNext(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "rel") && strings.Trim(v, `"`) == "next" {
			return true
		}
	}
	return false
}
