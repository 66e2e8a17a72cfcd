package cloudflare

import (
	"context"
	"fmt"
	"github.com/hearthbox/hearth/ddns/provider/internal/dnsname"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
)

// Provider manages records of zones at Cloudflare. Set APIToken; the other
// fields have working zero values. Use it through a pointer and do not copy
// it; it is safe for concurrent use.
//
// The zone given to each method is the zone's name at Cloudflare (for
// example "example.com"), with or without the trailing dot.
type Provider struct {
	// APIToken is a Cloudflare API token with the permissions Zone:Read and
	// DNS:Edit on the zone ("Authorization: Bearer ..."). It is never
	// printed: String, GoString and LogValue redact it.
	APIToken string `json:"api_token"`
	// BaseURL is the API root; empty means DefaultBaseURL. It must be https,
	// or http to a loopback address (tests).
	BaseURL string `json:"base_url,omitempty"`
	// HTTPClient sends the requests; nil means a client with a 30 s timeout.
	HTTPClient *http.Client `json:"-"`
	// MaxRetryWait is the longest Retry-After this provider waits for when
	// Cloudflare rate-limits it (429); a longer one fails the call at once
	// with ErrRateLimited. Zero means 10 s.
	MaxRetryWait time.Duration `json:"max_retry_wait,omitempty"`

	// writeMu serialises the calls that change records, so that concurrent
	// Set and Delete calls on this Provider do not undo each other's work.
	writeMu sync.Mutex
	// zonesMu guards zoneIDs.
	zonesMu sync.Mutex
	// zoneIDs caches zone ids by zone name.
	zoneIDs map[string]string
}

// Interface guards: the libdns interfaces Hearth relies on.
var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordSetter   = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ slog.LogValuer        = (*Provider)(nil)
)

const (
	// perPage is how many records one list request asks for.
	perPage = 100
	// maxPages bounds how many pages one listing reads.
	maxPages = 500
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
	return fmt.Sprintf("cloudflare.Provider{BaseURL: %q, APIToken: %q}", p.BaseURL, redacted(p.APIToken))
}

// GoString is String, so that %#v does not print the token either.
func (p *Provider) GoString() string { return p.String() }

// LogValue describes the provider to log/slog without its token.
func (p *Provider) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("provider", "cloudflare"),
		slog.String("base_url", p.BaseURL),
		slog.String("api_token", redacted(p.APIToken)),
	)
}

// GetRecords returns all records of zone, as libdns types (libdns.Address,
// libdns.TXT, ...; libdns.RR for types this provider does not write), with
// names relative to the zone ("@" for the apex).
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	out, err := p.getRecords(ctx, zone)
	if err != nil {
		return nil, fmt.Errorf("cloudflare: get records of %s: %w", strings.TrimSuffix(zone, "."), err)
	}
	return out, nil
}

func (p *Provider) getRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	z, err := dnsname.Zone(zone)
	if err != nil {
		return nil, err
	}
	id, err := p.zoneID(ctx, z)
	if err != nil {
		return nil, err
	}
	recs, err := p.list(ctx, id, "", "")
	if err != nil {
		return nil, err
	}
	out := make([]libdns.Record, 0, len(recs))
	for _, r := range recs {
		out = append(out, record(r, z))
	}
	return out, nil
}

// AppendRecords creates recs and returns them as Cloudflare stored them. It
// is not atomic: if one creation fails, those before it stay. Cloudflare
// refuses a record identical to an existing one.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out, err := p.appendRecords(ctx, zone, recs)
	if err != nil {
		return nil, fmt.Errorf("cloudflare: append records to %s: %w", strings.TrimSuffix(zone, "."), err)
	}
	return out, nil
}

func (p *Provider) appendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	z, es, err := p.prepare(zone, recs, forWrite)
	if err != nil || len(es) == 0 {
		return nil, err
	}
	id, err := p.zoneID(ctx, z)
	if err != nil {
		return nil, err
	}
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	out := make([]libdns.Record, 0, len(es))
	for _, e := range es {
		created, err := p.create(ctx, id, e.rec)
		if err != nil {
			return nil, err
		}
		out = append(out, record(created, z))
	}
	return out, nil
}

// SetRecords makes each (name, type) pair in recs hold exactly the given
// values and returns the records as stored. Records that already hold a
// wanted value are kept, others are updated in place (keeping their id and
// proxy setting), created or deleted. It is not atomic: if one request
// fails, the changes before it stay.
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out, err := p.setRecords(ctx, zone, recs)
	if err != nil {
		return nil, fmt.Errorf("cloudflare: set records in %s: %w", strings.TrimSuffix(zone, "."), err)
	}
	return out, nil
}

func (p *Provider) setRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	z, es, err := p.prepare(zone, recs, forWrite)
	if err != nil || len(es) == 0 {
		return nil, err
	}
	id, err := p.zoneID(ctx, z)
	if err != nil {
		return nil, err
	}
	type rrsetKey struct{ fqdn, typ string }
	var order []rrsetKey
	groups := map[rrsetKey][]entry{}
	for _, e := range es {
		k := rrsetKey{e.fqdn, e.typ}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], e)
	}
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	var out []libdns.Record
	for _, k := range order {
		stored, err := p.setRRset(ctx, id, k.fqdn, k.typ, groups[k])
		if err != nil {
			return nil, err
		}
		for _, r := range stored {
			out = append(out, record(r, z))
		}
	}
	return out, nil
}

// setRRset makes the records of (name, typ) be exactly want.
func (p *Provider) setRRset(ctx context.Context, zoneID, name, typ string, want []entry) ([]dnsRecord, error) {
	have, err := p.list(ctx, zoneID, typ, name)
	if err != nil {
		return nil, err
	}
	used := make([]bool, len(have))
	result := make([]dnsRecord, len(want))
	done := make([]bool, len(want))
	// Values that exist already: keep them, fixing the TTL if needed.
	for i, w := range want {
		for j, h := range have {
			if used[j] || canonical(typ, libdnsData(h)) != w.data {
				continue
			}
			used[j], done[i], result[i] = true, true, h
			if h.TTL != w.ttl {
				if result[i], err = p.update(ctx, zoneID, h, w.rec); err != nil {
					return nil, err
				}
			}
			break
		}
	}
	// Other wanted values reuse the remaining records, then are created.
	j := 0
	for i, w := range want {
		if done[i] {
			continue
		}
		for j < len(have) && used[j] {
			j++
		}
		if j < len(have) {
			used[j] = true
			result[i], err = p.update(ctx, zoneID, have[j], w.rec)
		} else {
			result[i], err = p.create(ctx, zoneID, w.rec)
		}
		if err != nil {
			return nil, err
		}
	}
	// Records left over go.
	for j, h := range have {
		if !used[j] {
			if err := p.remove(ctx, zoneID, h.ID); err != nil {
				return nil, err
			}
		}
	}
	return result, nil
}

// DeleteRecords removes the records that match recs and returns them. A
// record matches on name and, where given, type, TTL (0 matches any) and
// data.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out, err := p.deleteRecords(ctx, zone, recs)
	if err != nil {
		return nil, fmt.Errorf("cloudflare: delete records from %s: %w", strings.TrimSuffix(zone, "."), err)
	}
	return out, nil
}

func (p *Provider) deleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	z, es, err := p.prepare(zone, recs, forDelete)
	if err != nil || len(es) == 0 {
		return nil, err
	}
	id, err := p.zoneID(ctx, z)
	if err != nil {
		return nil, err
	}
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	deleted := map[string]bool{}
	var out []libdns.Record
	for _, e := range es {
		have, err := p.list(ctx, id, e.typ, e.fqdn)
		if err != nil {
			return nil, err
		}
		for _, h := range have {
			if deleted[h.ID] || !e.matches(h) {
				continue
			}
			if err := p.remove(ctx, id, h.ID); err != nil {
				return nil, err
			}
			deleted[h.ID] = true
			out = append(out, record(h, z))
		}
	}
	return out, nil
}

// prepare checks the zone and the records.
func (p *Provider) prepare(zone string, recs []libdns.Record, m mode) (string, []entry, error) {
	z, err := dnsname.Zone(zone)
	if err != nil {
		return "", nil, err
	}
	es, err := entries(z, recs, m)
	if err != nil {
		return "", nil, err
	}
	return z, es, nil
}

// zoneID finds the id of zone, asking Cloudflare once per zone.
func (p *Provider) zoneID(ctx context.Context, zone string) (string, error) {
	p.zonesMu.Lock()
	id, ok := p.zoneIDs[zone]
	p.zonesMu.Unlock()
	if ok {
		return id, nil
	}
	var zones []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if _, err := p.call(ctx, http.MethodGet, "/zones", url.Values{"name": {zone}}, nil, &zones); err != nil {
		return "", err
	}
	for _, found := range zones {
		if strings.EqualFold(found.Name, zone) && found.ID != "" {
			p.zonesMu.Lock()
			if p.zoneIDs == nil {
				p.zoneIDs = map[string]string{}
			}
			p.zoneIDs[zone] = found.ID
			p.zonesMu.Unlock()
			return found.ID, nil
		}
	}
	return "", fmt.Errorf("zone %s: not in this Cloudflare account, or the token lacks Zone:Read on it: %w", zone, ErrNotFound)
}

func recordsPath(zoneID string) string {
	return "/zones/" + url.PathEscape(zoneID) + "/dns_records"
}

// list reads the zone's records, all pages, optionally only those of one
// type and (fully qualified) name.
func (p *Provider) list(ctx context.Context, zoneID, typ, name string) ([]dnsRecord, error) {
	q := url.Values{"per_page": {strconv.Itoa(perPage)}}
	if typ != "" {
		q.Set("type", typ)
	}
	if name != "" {
		q.Set("name", name)
	}
	var all []dnsRecord
	for page := 1; page <= maxPages; page++ {
		q.Set("page", strconv.Itoa(page))
		var recs []dnsRecord
		info, err := p.call(ctx, http.MethodGet, recordsPath(zoneID), q, nil, &recs)
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
		if info == nil || page >= info.TotalPages || len(recs) == 0 {
			return all, nil
		}
	}
	return nil, fmt.Errorf("listing records: more than %d pages", maxPages)
}

// create adds one record.
func (p *Provider) create(ctx context.Context, zoneID string, r dnsRecord) (dnsRecord, error) {
	var out dnsRecord
	_, err := p.call(ctx, http.MethodPost, recordsPath(zoneID), nil, r, &out)
	return out, err
}

// update replaces record old with r, keeping old's proxy setting.
func (p *Provider) update(ctx context.Context, zoneID string, old, r dnsRecord) (dnsRecord, error) {
	r.Proxied = old.Proxied
	var out dnsRecord
	_, err := p.call(ctx, http.MethodPut, recordsPath(zoneID)+"/"+url.PathEscape(old.ID), nil, r, &out)
	return out, err
}

// remove deletes the record with id.
func (p *Provider) remove(ctx context.Context, zoneID, id string) error {
	_, err := p.call(ctx, http.MethodDelete, recordsPath(zoneID)+"/"+url.PathEscape(id), nil, nil, nil)
	return err
}
