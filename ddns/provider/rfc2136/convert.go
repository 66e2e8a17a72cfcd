package rfc2136

import (
	"fmt"
	"strings"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// canonicalZone is zone in lower case with a trailing dot.
func canonicalZone(zone string) (string, error) {
	if zone == "" || zone == "." {
		return "", fmt.Errorf("zone %q: required: %w", zone, ErrInvalidRecord)
	}
	if _, ok := dns.IsDomainName(zone); !ok {
		return "", fmt.Errorf("zone %q: not a domain name: %w", zone, ErrInvalidRecord)
	}
	return dns.CanonicalName(zone), nil
}

// absolute is a libdns name (relative, "@" or ending in a dot) as a
// canonical FQDN.
func absolute(name, zone string) string {
	return dns.CanonicalName(libdns.AbsoluteName(name, zone))
}

// relative is fqdn relative to zone ("@" for the apex), or fqdn itself when
// it is outside the zone.
func relative(fqdn, zone string) string {
	fqdn = dns.CanonicalName(fqdn)
	switch {
	case fqdn == zone:
		return "@"
	case strings.HasSuffix(fqdn, "."+zone):
		return strings.TrimSuffix(fqdn, "."+zone)
	default:
		return fqdn
	}
}

// prepare checks the zone and turns recs into wire records, naming the bad
// one in an error.
func prepare(zone string, recs []libdns.Record) (string, []dns.RR, error) {
	zone, err := canonicalZone(zone)
	if err != nil {
		return "", nil, err
	}
	rrs := make([]dns.RR, 0, len(recs))
	for i, r := range recs {
		rr, err := toRR(zone, r.RR())
		if err != nil {
			return "", nil, fmt.Errorf("recs[%d]: %w", i, err)
		}
		rrs = append(rrs, rr)
	}
	return zone, rrs, nil
}

// toRR converts one libdns record, which must lie inside zone.
func toRR(zone string, r libdns.RR) (dns.RR, error) {
	if r.Name == "" {
		return nil, fmt.Errorf("name: required: %w", ErrInvalidRecord)
	}
	name := absolute(r.Name, zone)
	if _, ok := dns.IsDomainName(name); !ok || (name != zone && !strings.HasSuffix(name, "."+zone)) {
		return nil, fmt.Errorf("name %q: not a name in %s: %w", r.Name, zone, ErrInvalidRecord)
	}
	rtype, ok := dns.StringToType[strings.ToUpper(r.Type)]
	if !ok || rtype == dns.TypeANY || rtype == dns.TypeSOA || rtype == dns.TypeAXFR || rtype == dns.TypeIXFR || rtype == dns.TypeOPT || rtype == dns.TypeTSIG {
		return nil, fmt.Errorf("type %q: not a record type that can be changed: %w", r.Type, ErrInvalidRecord)
	}
	if r.TTL < 0 || r.TTL > 68*365*24*time.Hour {
		return nil, fmt.Errorf("ttl %s: out of range: %w", r.TTL, ErrInvalidRecord)
	}
	ttl := r.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if strings.ContainsAny(r.Data, "\n\r") {
		return nil, fmt.Errorf("data: contains a line break: %w", ErrInvalidRecord)
	}
	hdr := dns.RR_Header{Name: name, Rrtype: rtype, Class: dns.ClassINET, Ttl: uint32(ttl / time.Second)}
	if rtype == dns.TypeTXT {
		return &dns.TXT{Hdr: hdr, Txt: chunks(r.Data, 255)}, nil
	}
	rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", name, hdr.Ttl, dns.TypeToString[rtype], r.Data))
	if err != nil || rr == nil {
		return nil, fmt.Errorf("data %q: not valid for %s: %w", r.Data, dns.TypeToString[rtype], ErrInvalidRecord)
	}
	return rr, nil
}

// chunks splits a TXT value into character-strings of at most n bytes.
func chunks(s string, n int) []string {
	if s == "" {
		return []string{""}
	}
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// data is the value of rr as libdns writes it: TXT unquoted and joined,
// others as in a zone file.
func data(rr dns.RR) string {
	if t, ok := rr.(*dns.TXT); ok {
		return strings.Join(t.Txt, "")
	}
	return strings.TrimSpace(strings.TrimPrefix(rr.String(), rr.Header().String()))
}

// fromRR converts a wire record into the libdns type for its record type.
func fromRR(zone string, rr dns.RR) libdns.Record {
	h := rr.Header()
	out := libdns.RR{
		Name: relative(h.Name, zone),
		TTL:  time.Duration(h.Ttl) * time.Second,
		Type: dns.TypeToString[h.Rrtype],
		Data: data(rr),
	}
	if parsed, err := out.Parse(); err == nil {
		return parsed
	}
	return out
}

func fromRRs(zone string, rrs []dns.RR) []libdns.Record {
	out := make([]libdns.Record, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, fromRR(zone, rr))
	}
	return out
}

// matches reports whether the zone's rr is what want describes; an empty
// type, zero TTL or empty data matches anything.
func matches(zone string, want libdns.RR, rr dns.RR) bool {
	h := rr.Header()
	if h.Rrtype == dns.TypeSOA || !strings.EqualFold(h.Name, absolute(want.Name, zone)) {
		return false
	}
	if want.Type != "" && !strings.EqualFold(want.Type, dns.TypeToString[h.Rrtype]) {
		return false
	}
	if want.TTL != 0 && uint32(want.TTL/time.Second) != h.Ttl {
		return false
	}
	if want.Data == "" {
		return true
	}
	if want.Type == "" {
		return want.Data == data(rr)
	}
	w, err := toRR(zone, want)
	return err == nil && dns.IsDuplicate(w, rr)
}
