package duckdns

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/libdns/libdns"
)

// DeleteRecords removes the records that match recs and returns them. A
// record matches on name and, where given, type and data (TTLs are ignored:
// DuckDNS has one fixed TTL). Records of names and types DuckDNS cannot hold
// match nothing. DuckDNS can only clear the A and AAAA records together, so
// deleting one of them clears both and writes the other back: two updates.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out, err := p.deleteRecords(ctx, zone, recs)
	if err != nil {
		return nil, fmt.Errorf("duckdns: delete records from %s: %w", strings.TrimSuffix(zone, "."), err)
	}
	return out, nil
}

func (p *Provider) deleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	z, err := zoneOf(zone)
	if err != nil {
		return nil, err
	}
	var order []place
	byPlace := map[place][]target{}
	for i, rec := range recs {
		t, err := p.toTarget(z, rec, forDelete)
		if errors.Is(err, ErrUnsupported) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		if _, ok := byPlace[t.place]; !ok {
			order = append(order, t.place)
		}
		byPlace[t.place] = append(byPlace[t.place], t)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []libdns.Record
	for _, pl := range order {
		deleted, err := p.deleteAt(ctx, pl, byPlace[pl])
		if err != nil {
			return nil, err
		}
		out = append(out, deleted...)
	}
	return out, nil
}

// deleteAt removes from one name the values that ts match.
func (p *Provider) deleteAt(ctx context.Context, pl place, ts []target) ([]libdns.Record, error) {
	cur, err := p.lookup(ctx, pl.host())
	if err != nil {
		return nil, err
	}
	var del values
	for _, t := range ts {
		if cur.v4.IsValid() && (t.typ == "" || t.typ == "A") && (t.data == "" || t.data == cur.v4.String()) {
			del.v4 = cur.v4.String()
		}
		if cur.v6.IsValid() && (t.typ == "" || t.typ == "AAAA") && (t.data == "" || t.data == cur.v6.String()) {
			del.v6 = cur.v6.String()
		}
		if cur.txt != "" && t.typ == "TXT" && (t.data == "" || t.data == cur.txt) {
			del.txt = cur.txt
		}
	}
	var out []libdns.Record
	if del.txt != "" {
		if _, err := p.update(ctx, pl.sub, url.Values{"txt": {""}, "clear": {"true"}}); err != nil {
			return nil, err
		}
		out = append(out, record(pl, "TXT", cur.txt, cur.ttlOrDefault()))
	}
	if del.v4 == "" && del.v6 == "" {
		return out, nil
	}
	if _, err := p.update(ctx, pl.sub, url.Values{"clear": {"true"}}); err != nil {
		return nil, err
	}
	keep := values{}
	if cur.v4.IsValid() && del.v4 == "" {
		keep.v4 = cur.v4.String()
	}
	if cur.v6.IsValid() && del.v6 == "" {
		keep.v6 = cur.v6.String()
	}
	if keep.v4 != "" || keep.v6 != "" {
		q := url.Values{"ip": {keep.v4}}
		if keep.v6 != "" {
			q.Set("ipv6", keep.v6)
		}
		lines, err := p.update(ctx, pl.sub, q)
		if err != nil {
			return nil, fmt.Errorf("writing back the address kept after clearing both: %w", err)
		}
		if err := checkAnswer(lines, keep); err != nil {
			return nil, err
		}
	}
	for _, r := range cur.records(pl) {
		rr := r.RR()
		if (rr.Type == "A" && del.v4 != "") || (rr.Type == "AAAA" && del.v6 != "") {
			out = append(out, r)
		}
	}
	return out, nil
}
