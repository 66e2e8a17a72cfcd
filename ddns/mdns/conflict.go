package mdns

import (
	"bytes"
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// probe builds a probe for host (§8.1): a query for ANY with the proposed
// address records in the authority section. The first probe asks for a
// unicast reply (QU).
func probe(host string, addrs []netip.Addr, first bool) *dns.Msg {
	m := new(dns.Msg)
	m.Id = 0
	class := uint16(dns.ClassINET)
	if first {
		class |= cacheFlush // the QU bit is the top bit of a question's class
	}
	m.Question = []dns.Question{{Name: host, Qtype: dns.TypeANY, Qclass: class}}
	m.Ns = addrRecords(host, addrs, dns.TypeANY, hostTTL)
	return m
}

// conflicts reports whether m answers for host with an address that is not
// one of ours (§9): another machine uses the name.
func conflicts(m *dns.Msg, host string, ours []netip.Addr) bool {
	for _, rr := range slices.Concat(m.Answer, m.Extra) {
		h := rr.Header()
		if h.Ttl == 0 || !strings.EqualFold(h.Name, host) {
			continue
		}
		if a, ok := rrAddr(rr); ok && !slices.Contains(ours, a) {
			return true
		}
	}
	return false
}

// rrAddr is the address of an A or AAAA record.
func rrAddr(rr dns.RR) (netip.Addr, bool) {
	switch v := rr.(type) {
	case *dns.A:
		a, ok := netip.AddrFromSlice(v.A)
		return a.Unmap(), ok
	case *dns.AAAA:
		return netip.AddrFromSlice(v.AAAA)
	}
	return netip.Addr{}, false
}

// tieBreak compares our proposed records with those of a simultaneous
// probe for the same name (§8.2): negative when we lose, 0 when they are
// the same (our own probe, looped back), positive when we win.
func tieBreak(ours, theirs []dns.RR) int {
	a, b := sorted(ours), sorted(theirs)
	for i := range min(len(a), len(b)) {
		if c := compareRR(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// authorityFor returns the records of m's authority section named host.
func authorityFor(m *dns.Msg, host string) []dns.RR {
	var out []dns.RR
	for _, rr := range m.Ns {
		if strings.EqualFold(rr.Header().Name, host) {
			out = append(out, rr)
		}
	}
	return out
}

func sorted(rrs []dns.RR) []dns.RR {
	out := slices.Clone(rrs)
	slices.SortFunc(out, compareRR)
	return out
}

// compareRR orders records by class (without the cache-flush bit), type,
// then raw rdata, as §8.2 says.
func compareRR(x, y dns.RR) int {
	hx, hy := x.Header(), y.Header()
	return cmp.Or(
		cmp.Compare(hx.Class&^cacheFlush, hy.Class&^cacheFlush),
		cmp.Compare(hx.Rrtype, hy.Rrtype),
		bytes.Compare(rdata(x), rdata(y)),
	)
}

func rdata(rr dns.RR) []byte {
	buf := make([]byte, dns.Len(rr)+16)
	off, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil
	}
	n := int(rr.Header().Rdlength)
	if n > off {
		return nil
	}
	return buf[off-n : off]
}

// nextName is the name to try after a conflict: "hearth" becomes
// "hearth-2", "hearth-2" becomes "hearth-3".
func nextName(name string) string {
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if n, err := strconv.Atoi(name[i+1:]); err == nil && n >= 2 && !strings.HasPrefix(name[i+1:], "0") {
			return name[:i+1] + strconv.Itoa(n+1)
		}
	}
	return name + "-2"
}
