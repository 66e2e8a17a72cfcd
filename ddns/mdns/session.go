package mdns

import (
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"
)

// session is the state of one Run, touched only by Run's goroutine.
type session struct {
	r     *Responder
	socks sockets
	ifs   []iface
	timer *time.Timer

	name      string // the name probed or owned
	apps      []string
	probing   bool
	probes    int // probes sent in this round
	announces int // announcements left to send
	conflicts []time.Time
}

func (s *session) host() string { return hostName(s.name) }

func (s *session) zone(ifi iface) zone {
	return zone{host: s.host(), apps: s.apps, services: s.r.cfg.Services, addrs: ifi.addrs}
}

// ours is every address of every served interface.
func (s *session) ours() []netip.Addr {
	var out []netip.Addr
	for _, ifi := range s.ifs {
		out = append(out, ifi.addrs...)
	}
	return out
}

func (s *session) startProbing(after time.Duration) {
	s.probing, s.probes, s.announces = true, 0, 0
	s.r.setStatus(func(st *Status) { st.State, st.Name = StateProbing, s.name })
	s.timer.Reset(after)
}

// tick sends the next probe or announcement.
func (s *session) tick() {
	switch {
	case s.probing && s.probes < probeCount:
		for _, ifi := range s.ifs {
			s.send(probe(s.host(), ifi.addrs, s.probes == 0), ifi.index, netip.AddrPort{})
		}
		s.probes++
		s.timer.Reset(probeInterval)
	case s.probing:
		s.probing = false
		s.r.log.Info("name claimed", "name", s.host())
		s.r.setStatus(func(st *Status) { st.State = StateRunning })
		s.announces = announceCount
		s.tick()
	case s.announces > 0:
		s.sendAll(-1)
		s.announces--
		if s.announces > 0 {
			s.timer.Reset(announceGap)
		}
	}
}

// sendAll announces every record on every interface, with the given TTL
// (-1: the records' own; 0: goodbye).
func (s *session) sendAll(ttl int) {
	for _, ifi := range s.ifs {
		s.send(response(s.zone(ifi).all(), nil, ttl), ifi.index, netip.AddrPort{})
	}
}

func (s *session) send(m *dns.Msg, index int, dst netip.AddrPort) {
	b, err := m.Pack()
	if err != nil {
		s.r.log.Warn("pack", "err", err)
		return
	}
	s.socks.send(b, index, dst)
}

// handle answers a query or notes a conflict.
func (s *session) handle(p packet) {
	i := slices.IndexFunc(s.ifs, func(ifi iface) bool { return ifi.index == p.ifindex })
	if i < 0 {
		return // not a LAN interface we serve
	}
	ifi := s.ifs[i]
	m := new(dns.Msg)
	if err := m.Unpack(p.data); err != nil || m.Opcode != dns.OpcodeQuery {
		return
	}
	if m.Response {
		if conflicts(m, s.host(), s.ours()) {
			s.conflict()
		}
		return
	}
	if s.probing {
		// A simultaneous probe for the same name: the lexicographically
		// later records win (§8.2); the loser waits a second and probes
		// again, and then meets the winner's answer.
		theirs := authorityFor(m, s.host())
		if len(theirs) > 0 && tieBreak(addrRecords(s.host(), ifi.addrs, dns.TypeANY, hostTTL), theirs) < 0 {
			s.r.log.Info("lost a simultaneous probe", "name", s.host())
			s.startProbing(lostTieWait)
		}
		return
	}
	s.answer(m, ifi, p.src)
}

// answer replies to a query: to the group, or to the sender for a legacy
// unicast query (one not from port 5353, §6.7).
func (s *session) answer(m *dns.Msg, ifi iface, src netip.AddrPort) {
	z := s.zone(ifi)
	var ans, extra []dns.RR
	for _, q := range m.Question {
		if c := q.Qclass &^ cacheFlush; c != dns.ClassINET && c != dns.ClassANY {
			continue
		}
		a, e := z.answer(q)
		ans = append(ans, a...)
		extra = append(extra, e...)
	}
	ans = knownAnswers(ans, m.Answer)
	if len(ans) == 0 {
		return
	}
	if src.Port() != Port {
		out := new(dns.Msg)
		out.Id = m.Id
		out.Response, out.Authoritative = true, true
		out.Question = m.Question
		for _, rr := range ans {
			rr = dns.Copy(rr)
			rr.Header().Ttl = min(rr.Header().Ttl, legacyTTL)
			out.Answer = append(out.Answer, rr)
		}
		for _, rr := range dedupe(extra, ans) {
			rr = dns.Copy(rr)
			rr.Header().Ttl = min(rr.Header().Ttl, legacyTTL)
			out.Extra = append(out.Extra, rr)
		}
		s.send(out, ifi.index, src)
		return
	}
	// A multicast answer goes to the group of the family asked on.
	if b, err := response(ans, extra, -1).Pack(); err == nil {
		s.socks.sendGroup(b, ifi.index, src.Addr().Is6() && !src.Addr().Is4In6())
	}
}

// knownAnswers drops the answers the querier listed as known with at least
// half their TTL left (§7.1).
func knownAnswers(ans, known []dns.RR) []dns.RR {
	return slices.DeleteFunc(ans, func(rr dns.RR) bool {
		return slices.ContainsFunc(known, func(k dns.RR) bool {
			k = dns.Copy(k)
			k.Header().Class &^= cacheFlush
			return dns.IsDuplicate(k, rr) && k.Header().Ttl >= rr.Header().Ttl/2
		})
	})
}

// conflict handles another machine answering for our name: while probing
// take the next name; once running, probe again (§9), which then renames
// if the other machine still answers.
func (s *session) conflict() {
	now := time.Now()
	s.conflicts = append(slices.DeleteFunc(s.conflicts, func(t time.Time) bool { return now.Sub(t) > conflictWindow }), now)
	s.r.setStatus(func(st *Status) { st.Conflicts++ })
	wait := time.Duration(0)
	if len(s.conflicts) > conflictLimit {
		wait = conflictPause // §8.1: too many conflicts, slow down
	}
	if !s.probing {
		s.r.log.Warn("another machine answers for our name: probing again", "name", s.host())
		s.startProbing(wait)
		return
	}
	old := s.name
	s.name = nextName(old)
	s.r.log.Warn("name in use on the LAN: renamed", "old", old, "new", s.name)
	s.r.mu.Lock()
	s.r.name = s.name
	s.r.mu.Unlock()
	if f := s.r.cfg.OnRename; f != nil {
		f(old, s.name)
	}
	s.startProbing(wait)
}

// changed applies SetName and SetApps.
func (s *session) changed() {
	name, apps := s.r.wanted()
	if name != s.name {
		if !s.probing {
			s.sendAll(0)
		}
		s.name, s.apps = name, apps
		s.startProbing(0)
		return
	}
	gone := slices.DeleteFunc(slices.Clone(s.apps), func(a string) bool { return slices.Contains(apps, a) })
	added := slices.DeleteFunc(slices.Clone(apps), func(a string) bool { return slices.Contains(s.apps, a) })
	s.apps = apps
	if s.probing || (len(gone) == 0 && len(added) == 0) {
		return
	}
	for _, ifi := range s.ifs {
		z := s.zone(ifi)
		if len(gone) > 0 {
			s.send(response(z.appRecords(gone), nil, 0), ifi.index, netip.AddrPort{})
		}
		if len(added) > 0 {
			s.send(response(z.appRecords(added), nil, -1), ifi.index, netip.AddrPort{})
		}
	}
}

// refresh reads the interfaces' addresses again and announces a change.
func (s *session) refresh() {
	want := make([]string, 0, len(s.ifs))
	for _, ifi := range s.ifs {
		want = append(want, ifi.name)
	}
	fresh, err := lanInterfaces(want)
	if err != nil {
		s.r.log.Warn("read interfaces", "err", err)
		return
	}
	same := len(fresh) == len(s.ifs)
	for i := 0; same && i < len(fresh); i++ {
		same = fresh[i].index == s.ifs[i].index && slices.Equal(fresh[i].addrs, s.ifs[i].addrs)
	}
	if same {
		return
	}
	s.ifs = fresh
	if !s.probing {
		s.announces = announceCount
		s.tick()
	}
}
