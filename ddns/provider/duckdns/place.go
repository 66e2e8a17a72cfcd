package duckdns

import (
	"fmt"
	"github.com/hearthbox/hearth/ddns/provider/internal/dnsname"
	"net/netip"
	"strings"
	"time"

	"github.com/libdns/libdns"
)

// place is where a record lives at DuckDNS.
type place struct {
	zone string // the zone the caller named, normalised
	sub  string // the DuckDNS subname
}

func (pl place) host() string { return pl.sub + "." + suffix }

// hostName and challengeName are the libdns names of the two places,
// relative to the caller's zone.
func (pl place) hostName() string {
	if pl.zone == suffix {
		return pl.sub
	}
	return "@"
}

func (pl place) challengeName() string {
	if pl.zone == suffix {
		return challengePrefix + pl.sub
	}
	return strings.TrimSuffix(challengePrefix, ".")
}

// target is one input record mapped onto DuckDNS.
type target struct {
	place
	typ  string // A, AAAA or TXT; "" means any (deletes only)
	data string // canonical value; "" means any (deletes only)
}

// mode says what an input record is for: writes need a type and data,
// deletes may leave type and data empty to match any.
type mode int

const (
	forWrite mode = iota
	forDelete
)

// domainSub returns the subname in Domain, or "" when Domain is empty.
func (p *Provider) domainSub() (string, error) {
	if p.Domain == "" {
		return "", nil
	}
	d := strings.ToLower(strings.TrimSuffix(p.Domain, "."))
	d = strings.TrimSuffix(d, "."+suffix)
	if err := checkSub(d); err != nil {
		return "", fmt.Errorf("field Domain %q: %s: %w", p.Domain, err, ErrInvalid)
	}
	return d, nil
}

// checkSub checks a DuckDNS subname: one label of letters, digits and '-'.
func checkSub(s string) error {
	if s == "" || len(s) > 63 {
		return fmt.Errorf("want 1 to 63 characters")
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("has the character %q, want letters, digits or '-'", c)
		}
	}
	return nil
}

// zoneOf checks zone: duckdns.org or <sub>.duckdns.org.
func zoneOf(zone string) (string, error) {
	z, err := dnsname.Zone(zone)
	if err != nil {
		return "", err
	}
	if z == suffix {
		return z, nil
	}
	sub, ok := strings.CutSuffix(z, "."+suffix)
	if !ok || checkSub(sub) != nil {
		return "", fmt.Errorf("zone %q: want duckdns.org or <name>.duckdns.org: %w", zone, ErrInvalid)
	}
	return z, nil
}

// placeOf finds the DuckDNS subname of the fully qualified name fq (no
// trailing dot) and whether fq is its challenge name.
func (p *Provider) placeOf(zone, fq string) (place, bool, error) {
	rest, ok := strings.CutSuffix(fq, "."+suffix)
	if !ok {
		return place{}, false, fmt.Errorf("name %q: DuckDNS holds no records at %s itself: %w", fq, suffix, ErrUnsupported)
	}
	sub, challenge := strings.CutPrefix(rest, challengePrefix)
	if strings.Contains(sub, ".") {
		return place{}, false, fmt.Errorf("name %q: DuckDNS holds records only at <name>.%s and %s<name>.%s: %w", fq, suffix, challengePrefix, suffix, ErrUnsupported)
	}
	if err := checkSub(sub); err != nil {
		return place{}, false, fmt.Errorf("name %q: %s: %w", fq, err, ErrInvalid)
	}
	want, err := p.domainSub()
	if err != nil {
		return place{}, false, err
	}
	if want != "" && sub != want {
		return place{}, false, fmt.Errorf("name %q is not %s.%s, the configured Domain: %w", fq, want, suffix, ErrInvalid)
	}
	return place{zone: zone, sub: sub}, challenge, nil
}

// toTarget maps one input record onto DuckDNS.
func (p *Provider) toTarget(zone string, rec libdns.Record, m mode) (target, error) {
	if rec == nil {
		return target{}, fmt.Errorf("record is nil: %w", ErrInvalid)
	}
	rr := rec.RR()
	rel, err := dnsname.Relative(rr.Name, zone)
	if err != nil {
		return target{}, err
	}
	fq := zone
	if rel != "@" {
		fq = rel + "." + zone
	}
	pl, challenge, err := p.placeOf(zone, fq)
	if err != nil {
		return target{}, err
	}
	t := target{place: pl, typ: strings.ToUpper(rr.Type)}
	switch {
	case t.typ == "" && m == forDelete:
		if rr.Data != "" {
			return target{}, fmt.Errorf("name %q: data %q without a type: %w", rr.Name, rr.Data, ErrInvalid)
		}
		return t, nil
	case challenge && t.typ != "TXT":
		return target{}, fmt.Errorf("name %q: type %q: DuckDNS holds only TXT at %s: %w", rr.Name, rr.Type, fq, ErrUnsupported)
	case !challenge && t.typ != "A" && t.typ != "AAAA":
		return target{}, fmt.Errorf("name %q: type %q: DuckDNS holds only A and AAAA at %s (TXT goes to %s%s): %w", rr.Name, rr.Type, fq, challengePrefix, fq, ErrUnsupported)
	}
	if rr.Data == "" {
		if m == forWrite {
			return target{}, fmt.Errorf("name %q type %s: data is empty: %w", rr.Name, t.typ, ErrInvalid)
		}
		return t, nil
	}
	if t.data, err = checkData(t.typ, rr.Data); err != nil {
		return target{}, fmt.Errorf("name %q type %s: data %q: %s: %w", rr.Name, t.typ, rr.Data, err, ErrInvalid)
	}
	return t, nil
}

// checkData checks a value and returns its canonical form.
func checkData(typ, data string) (string, error) {
	if typ == "TXT" {
		if len(data) > maxTXT {
			return "", fmt.Errorf("longer than %d bytes", maxTXT)
		}
		for _, c := range data {
			if c < ' ' || c == 0x7f {
				return "", fmt.Errorf("has a control character")
			}
		}
		return data, nil
	}
	ip, err := netip.ParseAddr(data)
	if err != nil {
		return "", fmt.Errorf("not an IP address")
	}
	if ip.Zone() != "" || (typ == "A") != ip.Is4() {
		want := "IPv6"
		if typ == "A" {
			want = "IPv4"
		}
		return "", fmt.Errorf("not an %s address", want)
	}
	return ip.String(), nil
}

// targets maps recs onto DuckDNS; errors name the record by its index.
func (p *Provider) targets(zone string, recs []libdns.Record, m mode) ([]target, error) {
	out := make([]target, 0, len(recs))
	for i, rec := range recs {
		t, err := p.toTarget(zone, rec, m)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// record builds the libdns value of one DuckDNS record.
func record(pl place, typ, data string, ttl time.Duration) libdns.Record {
	if typ == "TXT" {
		return libdns.TXT{Name: pl.challengeName(), TTL: ttl, Text: data}
	}
	return libdns.Address{Name: pl.hostName(), TTL: ttl, IP: netip.MustParseAddr(data)}
}
