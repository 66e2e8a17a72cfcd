package desec

import (
	"fmt"
	"github.com/hearthbox/hearth/ddns/provider/internal/dnsname"
	"github.com/hearthbox/hearth/ddns/provider/internal/txt"
	"net/netip"
	"strings"
	"time"

	"github.com/libdns/libdns"
)

// MinTTL is the smallest TTL deSEC accepts for ordinary accounts. Every TTL
// this package writes is raised to at least MinTTL, so a TTL of 0 or 300 s
// becomes 3600 s; the records returned say what was written.
const MinTTL = 3600 * time.Second

// rrset is deSEC's RRset object, as sent and received.
type rrset struct {
	Subname string   `json:"subname"`
	Type    string   `json:"type"`
	TTL     int      `json:"ttl,omitempty"`
	Records []string `json:"records"`
}

// rrsetKey names one RRset in a domain.
type rrsetKey struct {
	subname, typ string
}

func (r rrset) key() rrsetKey { return rrsetKey{r.Subname, r.Type} }

// entry is one input record, checked and put in deSEC's terms.
type entry struct {
	key rrsetKey
	// ttl is in seconds, raised to MinTTL; 0 means "any" (deletes only).
	ttl int
	// data is the canonical libdns data; "" means "any" (deletes only).
	data string
}

// mode says what an input record is for: writes need a type and data,
// deletes may leave type, TTL and data empty to match any.
type mode int

const (
	forWrite mode = iota
	forDelete
)

// entries checks recs and puts them in deSEC's terms; errors name the
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
	e := entry{key: rrsetKey{subname: subname(name), typ: strings.ToUpper(rr.Type)}}
	if m == forDelete && e.key.typ == "" {
		if rr.Data != "" {
			return entry{}, fmt.Errorf("name %q: data %q without a type: %w", rr.Name, rr.Data, ErrInvalid)
		}
	} else if err := dnsname.CheckType(e.key.typ); err != nil {
		return entry{}, fmt.Errorf("name %q: %w", rr.Name, err)
	}
	if rr.TTL < 0 {
		return entry{}, fmt.Errorf("name %q: TTL %s is negative: %w", rr.Name, rr.TTL, ErrInvalid)
	}
	if m == forWrite || rr.TTL != 0 {
		e.ttl = ttlSeconds(rr.TTL)
	}
	if rr.Data == "" {
		if m == forWrite {
			return entry{}, fmt.Errorf("name %q type %s: data is empty: %w", rr.Name, e.key.typ, ErrInvalid)
		}
		return e, nil
	}
	if err := checkData(name, e.key.typ, rr.Data); err != nil {
		return entry{}, fmt.Errorf("name %q type %s: data %q: %s: %w", rr.Name, e.key.typ, rr.Data, err, ErrInvalid)
	}
	e.data = canonical(e.key.typ, rr.Data)
	return e, nil
}

// checkData checks a value the way libdns parses it, so that what goes out
// can come back as the right libdns type.
func checkData(name, typ, data string) error {
	if strings.ContainsRune(data, 0) {
		return fmt.Errorf("contains a NUL byte")
	}
	if typ == "A" || typ == "AAAA" {
		ip, err := netip.ParseAddr(data)
		if err != nil {
			return fmt.Errorf("not an IP address")
		}
		if ip.Zone() != "" || (typ == "A") != ip.Is4() {
			want := "IPv6"
			if typ == "A" {
				want = "IPv4"
			}
			return fmt.Errorf("not an %s address", want)
		}
		return nil
	}
	if _, err := (libdns.RR{Name: name, Type: typ, Data: data}).Parse(); err != nil {
		return err
	}
	return nil
}

// canonical returns data in the form used to compare values: addresses in
// their shortest form, everything else as given.
func canonical(typ, data string) string {
	if typ == "A" || typ == "AAAA" {
		if ip, err := netip.ParseAddr(data); err == nil {
			return ip.String()
		}
	}
	return data
}

// ttlSeconds turns a libdns TTL into deSEC's: whole seconds, at least MinTTL.
func ttlSeconds(d time.Duration) int {
	return int(max(d, MinTTL) / time.Second)
}

// subname turns a libdns relative name into deSEC's subname ("" for the apex).
func subname(name string) string {
	if name == "@" {
		return ""
	}
	return name
}

// libdnsName turns a deSEC subname into a libdns relative name.
func libdnsName(sub string) string {
	if sub == "" {
		return "@"
	}
	return sub
}

// wire returns data as deSEC wants it in "records": TXT values quoted,
// everything else as is.
func wire(typ, data string) string {
	if typ == "TXT" {
		return txt.Quote(data)
	}
	return data
}

// unwire reverses wire; a TXT value that cannot be read is kept as is.
func unwire(typ, value string) string {
	if typ == "TXT" {
		if text, err := txt.Unquote(value); err == nil {
			return text
		}
	}
	return value
}

// record builds the libdns value for one RRset member: the type's own struct
// where libdns has one, libdns.RR otherwise.
func record(sub, typ string, ttl int, data string) libdns.Record {
	rr := libdns.RR{Name: libdnsName(sub), TTL: time.Duration(ttl) * time.Second, Type: typ, Data: data}
	parsed, err := rr.Parse()
	if err != nil {
		return rr
	}
	return parsed
}

// records returns the members of rs as libdns records.
func (r rrset) records() []libdns.Record {
	out := make([]libdns.Record, 0, len(r.Records))
	for _, v := range r.Records {
		out = append(out, record(r.Subname, r.Type, r.TTL, unwire(r.Type, v)))
	}
	return out
}

// has reports whether rs holds the canonical value data.
func (r rrset) has(data string) bool {
	for _, v := range r.Records {
		if canonical(r.Type, unwire(r.Type, v)) == data {
			return true
		}
	}
	return false
}

// matches reports whether the delete entry e covers value v of rs.
func (e entry) matches(r rrset, v string) bool {
	switch {
	case e.key.subname != r.Subname:
		return false
	case e.key.typ != "" && e.key.typ != r.Type:
		return false
	case e.ttl != 0 && e.ttl != r.TTL:
		return false
	case e.data != "" && e.data != canonical(r.Type, unwire(r.Type, v)):
		return false
	}
	return true
}
