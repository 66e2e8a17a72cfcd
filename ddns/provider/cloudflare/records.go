package cloudflare

import (
	"fmt"
	"github.com/hearthbox/hearth/ddns/provider/internal/dnsname"
	"github.com/hearthbox/hearth/ddns/provider/internal/txt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/libdns/libdns"
)

const (
	// autoTTL is Cloudflare's "automatic" TTL; libdns TTL 0 maps to it.
	autoTTL = 1
	// MinTTL is the smallest TTL Cloudflare accepts (besides automatic);
	// shorter non-zero TTLs are raised to it.
	MinTTL = 60 * time.Second
	// MaxTTL is the largest TTL Cloudflare accepts; longer ones are lowered
	// to it.
	MaxTTL = 86400 * time.Second
)

// dnsRecord is Cloudflare's DNS record object, as sent and received.
type dnsRecord struct {
	ID       string  `json:"id,omitempty"`
	Type     string  `json:"type"`
	Name     string  `json:"name"`
	Content  string  `json:"content"`
	TTL      int     `json:"ttl"`
	Priority *uint16 `json:"priority,omitempty"`
	Proxied  *bool   `json:"proxied,omitempty"`
}

// supported reports whether this provider writes records of type typ: those
// whose content is a single string (MX adds a priority), unlike SRV, CAA or
// HTTPS, whose "data" object it does not build.
func supported(typ string) bool {
	switch typ {
	case "A", "AAAA", "CNAME", "TXT", "MX", "NS":
		return true
	}
	return false
}

// entry is one input record, checked and put in Cloudflare's terms.
type entry struct {
	fqdn string // name, fully qualified, no trailing dot
	typ  string // "" means any (deletes only)
	ttl  int    // Cloudflare TTL; 0 means any (deletes only)
	data string // canonical libdns data; "" means any (deletes only)
	rec  dnsRecord
}

// mode says what an input record is for: writes need a type and data,
// deletes may leave type, TTL and data empty to match any.
type mode int

const (
	forWrite mode = iota
	forDelete
)

// entries checks recs and puts them in Cloudflare's terms; errors name the
// record by its index.
func entries(zone string, recs []libdns.Record, m mode) ([]entry, error) {
	out := make([]entry, 0, len(recs))
	for i, rec := range recs {
		e, err := toEntry(zone, rec, m)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func toEntry(zone string, rec libdns.Record, m mode) (entry, error) {
	if rec == nil {
		return entry{}, fmt.Errorf("record is nil: %w", ErrInvalid)
	}
	rr := rec.RR()
	name, err := dnsname.Relative(rr.Name, zone)
	if err != nil {
		return entry{}, err
	}
	e := entry{fqdn: fqdn(name, zone), typ: strings.ToUpper(rr.Type)}
	if m == forDelete && e.typ == "" {
		if rr.Data != "" {
			return entry{}, fmt.Errorf("name %q: data %q without a type: %w", rr.Name, rr.Data, ErrInvalid)
		}
	} else {
		if err := dnsname.CheckType(e.typ); err != nil {
			return entry{}, fmt.Errorf("name %q: %w", rr.Name, err)
		}
		if !supported(e.typ) {
			return entry{}, fmt.Errorf("name %q: type %s: %w", rr.Name, e.typ, ErrUnsupported)
		}
	}
	if rr.TTL < 0 {
		return entry{}, fmt.Errorf("name %q: TTL %s is negative: %w", rr.Name, rr.TTL, ErrInvalid)
	}
	if m == forWrite || rr.TTL != 0 {
		e.ttl = ttlSeconds(rr.TTL)
	}
	if rr.Data == "" {
		if m == forWrite {
			return entry{}, fmt.Errorf("name %q type %s: data is empty: %w", rr.Name, e.typ, ErrInvalid)
		}
		return e, nil
	}
	r, err := toCloudflare(name, e.typ, rr.Data)
	if err != nil {
		return entry{}, fmt.Errorf("name %q type %s: data %q: %s: %w", rr.Name, e.typ, rr.Data, err, ErrInvalid)
	}
	r.Name, r.TTL = e.fqdn, e.ttl
	e.rec = r
	e.data = canonical(e.typ, rr.Data)
	return e, nil
}

// toCloudflare turns libdns data into Cloudflare's content (and priority).
func toCloudflare(name, typ, data string) (dnsRecord, error) {
	if strings.ContainsRune(data, 0) {
		return dnsRecord{}, fmt.Errorf("contains a NUL byte")
	}
	r := dnsRecord{Type: typ}
	switch typ {
	case "A", "AAAA":
		ip, err := netip.ParseAddr(data)
		if err != nil {
			return dnsRecord{}, fmt.Errorf("not an IP address")
		}
		if ip.Zone() != "" || (typ == "A") != ip.Is4() {
			want := "IPv6"
			if typ == "A" {
				want = "IPv4"
			}
			return dnsRecord{}, fmt.Errorf("not an %s address", want)
		}
		r.Content = ip.String()
	case "TXT":
		r.Content = txt.Quote(data)
	case "CNAME", "NS":
		target := strings.TrimSuffix(data, ".")
		if err := dnsname.Check(strings.ToLower(target), false); err != nil {
			return dnsRecord{}, fmt.Errorf("target: %s", err)
		}
		r.Content = target
	case "MX":
		parsed, err := (libdns.RR{Name: name, Type: typ, Data: data}).Parse()
		if err != nil {
			return dnsRecord{}, err
		}
		mx := parsed.(libdns.MX)
		target := strings.TrimSuffix(mx.Target, ".")
		if err := dnsname.Check(strings.ToLower(target), false); err != nil {
			return dnsRecord{}, fmt.Errorf("target: %s", err)
		}
		pref := mx.Preference
		r.Content, r.Priority = target, &pref
	}
	return r, nil
}

// libdnsData turns Cloudflare's content (and priority) into libdns data.
// TXT content is quoted when it was written quoted (as this package does and
// Cloudflare recommends) and taken literally otherwise.
func libdnsData(r dnsRecord) string {
	switch r.Type {
	case "TXT":
		if len(r.Content) >= 2 && r.Content[0] == '"' && r.Content[len(r.Content)-1] == '"' {
			if text, err := txt.Unquote(r.Content); err == nil {
				return text
			}
		}
	case "MX":
		var pref uint16
		if r.Priority != nil {
			pref = *r.Priority
		}
		return strconv.Itoa(int(pref)) + " " + r.Content
	}
	return r.Content
}

// canonical returns data in the form used to compare values: addresses in
// their shortest form; names lower-cased without the trailing dot.
func canonical(typ, data string) string {
	switch typ {
	case "A", "AAAA":
		if ip, err := netip.ParseAddr(data); err == nil {
			return ip.String()
		}
	case "CNAME", "NS":
		return strings.ToLower(strings.TrimSuffix(data, "."))
	case "MX":
		pref, target, ok := strings.Cut(strings.TrimSpace(data), " ")
		if ok {
			return pref + " " + strings.ToLower(strings.TrimSuffix(strings.TrimSpace(target), "."))
		}
	}
	return data
}

// ttlSeconds turns a libdns TTL into Cloudflare's: 0 is automatic (1);
// others are whole seconds between MinTTL and MaxTTL.
func ttlSeconds(d time.Duration) int {
	if d == 0 {
		return autoTTL
	}
	return int(min(max(d, MinTTL), MaxTTL) / time.Second)
}

// libdnsTTL turns Cloudflare's TTL into libdns's (automatic is 0).
func libdnsTTL(ttl int) time.Duration {
	if ttl == autoTTL {
		return 0
	}
	return time.Duration(ttl) * time.Second
}

// fqdn returns the fully qualified name (no trailing dot) of name in zone.
func fqdn(name, zone string) string {
	if name == "@" {
		return zone
	}
	return name + "." + zone
}

// relativeTo returns the libdns name of a Cloudflare record name in zone.
func relativeTo(name, zone string) string {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	if n == zone {
		return "@"
	}
	if rel, ok := strings.CutSuffix(n, "."+zone); ok {
		return rel
	}
	return n + "."
}

// record builds the libdns value of a Cloudflare record: the type's own
// struct where libdns has one and this package knows the content's form,
// libdns.RR otherwise.
func record(r dnsRecord, zone string) libdns.Record {
	rr := libdns.RR{Name: relativeTo(r.Name, zone), TTL: libdnsTTL(r.TTL), Type: r.Type, Data: libdnsData(r)}
	if !supported(r.Type) {
		return rr
	}
	parsed, err := rr.Parse()
	if err != nil {
		return rr
	}
	return parsed
}

// matches reports whether the delete entry e covers the Cloudflare record r.
func (e entry) matches(r dnsRecord) bool {
	switch {
	case !strings.EqualFold(strings.TrimSuffix(r.Name, "."), e.fqdn):
		return false
	case e.typ != "" && e.typ != r.Type:
		return false
	case e.ttl != 0 && e.ttl != r.TTL:
		return false
	case e.data != "" && e.data != canonical(r.Type, libdnsData(r)):
		return false
	}
	return true
}
