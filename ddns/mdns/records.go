package mdns

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// TTLs of RFC 6762 §10: host records 120 s, others 75 minutes; answers to
// legacy unicast queries at most 10 s (§6.7).
const (
	hostTTL   = 120
	otherTTL  = 4500
	legacyTTL = 10
	// cacheFlush is the top bit of the class of a unique record (§10.2).
	cacheFlush = 1 << 15
)

// servicesName is the DNS-SD meta-query name (RFC 6763 §9).
const servicesName = "_services._dns-sd._udp.local."

// Service is a DNS-SD service the box advertises under its own name.
type Service struct {
	// Type is the service type, "_http._tcp" or "_https._tcp".
	Type string
	// Port is the TCP port it answers on.
	Port uint16
	// TXT are the service's key=value strings; empty means "path=/".
	TXT []string
}

// zone is the records the responder owns for one interface, computed from
// its name, apps and the interface's addresses.
type zone struct {
	host     string // "<name>.local."
	apps     []string
	services []Service
	addrs    []netip.Addr
}

func hostName(name string) string { return dns.CanonicalName(name + ".local.") }

func instanceName(name string, s Service) string {
	return dns.CanonicalName(escapeLabel(name) + "." + s.Type + ".local.")
}

// escapeLabel escapes what the DNS presentation format would read as
// syntax in an instance name.
func escapeLabel(s string) string {
	r := strings.NewReplacer(".", `\.`, `\`, `\\`, " ", `\ `)
	return r.Replace(s)
}

// addrRecords are name's A and AAAA records of qtype (ANY for both).
func addrRecords(name string, addrs []netip.Addr, qtype uint16, ttl uint32) []dns.RR {
	var out []dns.RR
	for _, a := range addrs {
		hdr := dns.RR_Header{Name: name, Class: dns.ClassINET, Ttl: ttl}
		switch {
		case a.Is4() && (qtype == dns.TypeA || qtype == dns.TypeANY):
			hdr.Rrtype = dns.TypeA
			out = append(out, &dns.A{Hdr: hdr, A: a.AsSlice()})
		case a.Is6() && (qtype == dns.TypeAAAA || qtype == dns.TypeANY):
			hdr.Rrtype = dns.TypeAAAA
			out = append(out, &dns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
		}
	}
	return out
}

func (z zone) name() string { return strings.TrimSuffix(z.host, ".local.") }

func (z zone) srv(s Service) []dns.RR {
	inst := instanceName(z.name(), s)
	txt := s.TXT
	if len(txt) == 0 {
		txt = []string{"path=/"}
	}
	return []dns.RR{
		&dns.SRV{Hdr: dns.RR_Header{Name: inst, Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: hostTTL}, Port: s.Port, Target: z.host},
		&dns.TXT{Hdr: dns.RR_Header{Name: inst, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: otherTTL}, Txt: txt},
	}
}

// answer returns the answers to q and the additional records that go with
// them (RFC 6763 §12); nil when q is not about a name the box owns.
func (z zone) answer(q dns.Question) (ans, extra []dns.RR) {
	qname := strings.ToLower(q.Name)
	qt := q.Qtype
	if qname == z.host {
		return addrRecords(z.host, z.addrs, qt, hostTTL), nil
	}
	for _, app := range z.apps {
		if qname == app+"."+z.host {
			return addrRecords(qname, z.addrs, qt, hostTTL), nil
		}
	}
	if qname == servicesName && (qt == dns.TypePTR || qt == dns.TypeANY) {
		for _, s := range z.services {
			ans = append(ans, &dns.PTR{Hdr: dns.RR_Header{Name: servicesName, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: otherTTL}, Ptr: s.Type + ".local."})
		}
		return ans, nil
	}
	for _, s := range z.services {
		typ := s.Type + ".local."
		inst := instanceName(z.name(), s)
		switch {
		case qname == typ && (qt == dns.TypePTR || qt == dns.TypeANY):
			ans = append(ans, &dns.PTR{Hdr: dns.RR_Header{Name: typ, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: otherTTL}, Ptr: inst})
			extra = append(extra, z.srv(s)...)
			extra = append(extra, addrRecords(z.host, z.addrs, dns.TypeANY, hostTTL)...)
			return ans, extra
		case qname == inst:
			for _, rr := range z.srv(s) {
				if qt == dns.TypeANY || rr.Header().Rrtype == qt {
					ans = append(ans, rr)
				}
			}
			if len(ans) > 0 {
				extra = addrRecords(z.host, z.addrs, dns.TypeANY, hostTTL)
			}
			return ans, extra
		}
	}
	return nil, nil
}

// all returns every record the box owns on this interface, for
// announcements and goodbyes.
func (z zone) all() []dns.RR {
	out := addrRecords(z.host, z.addrs, dns.TypeANY, hostTTL)
	for _, app := range z.apps {
		out = append(out, addrRecords(app+"."+z.host, z.addrs, dns.TypeANY, hostTTL)...)
	}
	for _, s := range z.services {
		out = append(out,
			&dns.PTR{Hdr: dns.RR_Header{Name: servicesName, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: otherTTL}, Ptr: s.Type + ".local."},
			&dns.PTR{Hdr: dns.RR_Header{Name: s.Type + ".local.", Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: otherTTL}, Ptr: instanceName(z.name(), s)},
		)
		out = append(out, z.srv(s)...)
	}
	return out
}

// appRecords are the address records of the named apps only.
func (z zone) appRecords(apps []string) []dns.RR {
	var out []dns.RR
	for _, app := range apps {
		out = append(out, addrRecords(app+"."+z.host, z.addrs, dns.TypeANY, hostTTL)...)
	}
	return out
}

// unique reports a record type the box alone answers for (cache-flush
// applies); PTR records are shared.
func unique(rr dns.RR) bool { return rr.Header().Rrtype != dns.TypePTR }

// response builds a multicast response (§6: ID 0, authoritative, unique
// records with the cache-flush bit), with every TTL set to ttl when ttl >=
// 0 (0 for goodbyes).
func response(ans, extra []dns.RR, ttl int) *dns.Msg {
	m := new(dns.Msg)
	m.Response = true
	m.Authoritative = true
	prep := func(rrs []dns.RR) []dns.RR {
		out := make([]dns.RR, 0, len(rrs))
		for _, rr := range rrs {
			rr = dns.Copy(rr)
			h := rr.Header()
			if unique(rr) {
				h.Class |= cacheFlush
			}
			if ttl >= 0 {
				h.Ttl = uint32(ttl)
			}
			out = append(out, rr)
		}
		return out
	}
	m.Answer = prep(ans)
	m.Extra = prep(dedupe(extra, ans))
	return m
}

// dedupe returns the records of extra that are not in ans.
func dedupe(extra, ans []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range extra {
		if !slices.ContainsFunc(ans, func(a dns.RR) bool { return dns.IsDuplicate(a, rr) }) &&
			!slices.ContainsFunc(out, func(a dns.RR) bool { return dns.IsDuplicate(a, rr) }) {
			out = append(out, rr)
		}
	}
	return out
}
