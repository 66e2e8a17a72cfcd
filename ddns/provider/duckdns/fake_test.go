package duckdns_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/hearthbox/hearth/ddns/provider/duckdns"
)

// fakeDuck is an in-process DuckDNS: the update URL as its specification
// describes it (https://www.duckdns.org/spec.jsp: domains, token, ip, ipv6,
// txt, clear, verbose; "OK"/"KO" answers; ip detected from the caller when
// neither ip nor ipv6 is given) and, on a real miekg/dns server, the name
// servers that serve the result: A and AAAA at <sub>.duckdns.org and the TXT
// value at that name and every name below it.
type fakeDuck struct {
	token string

	// mu guards everything below.
	mu       sync.Mutex
	domains  map[string]*fakeName
	throttle []string // Retry-After values of the next answers, each a 429
	fail     []int    // statuses of the next answers (after throttling)
	updates  []string // the query of every update, token left out
}

type fakeName struct {
	v4, v6, txt string
}

const fakeToken = "a7c4d0ad-114e-40ef-ba1d-d217904a50f2"

// newFake starts a fake DuckDNS (web and DNS) whose account holds subs and
// returns it with a Provider for the first of them pointed at it.
func newFake(t *testing.T, subs ...string) (*fakeDuck, *duckdns.Provider) {
	t.Helper()
	f := &fakeDuck{token: fakeToken, domains: map[string]*fakeName{}}
	for _, s := range subs {
		f.domains[s] = &fakeName{}
	}
	web := httptest.NewServer(f)
	t.Cleanup(web.Close)

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening for DNS: %v", err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(f.serveDNS), NotifyStartedFunc: func() { close(started) }}
	done := make(chan error, 1)
	go func() { done <- srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("starting the DNS server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Errorf("stopping the DNS server: %v", err)
		}
		<-done
	})
	return f, &duckdns.Provider{
		Token:       fakeToken,
		Domain:      subs[0],
		BaseURL:     web.URL,
		Nameservers: []string{pc.LocalAddr().String()},
		HTTPClient:  web.Client(),
	}
}

// set stores a name's values directly (test setup).
func (f *fakeDuck) set(sub, v4, v6, txt string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.domains[sub] = &fakeName{v4: v4, v6: v6, txt: txt}
}

// state returns a name's values as "v4|v6|txt".
func (f *fakeDuck) state(sub string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.domains[sub]
	return n.v4 + "|" + n.v6 + "|" + n.txt
}

// log returns the updates seen so far.
func (f *fakeDuck) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.updates)
}

func (f *fakeDuck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	logged := url.Values{}
	for k, v := range q {
		if k != "token" {
			logged[k] = v
		}
	}
	f.updates = append(f.updates, logged.Encode())
	if len(f.throttle) > 0 {
		ra := f.throttle[0]
		f.throttle = f.throttle[1:]
		w.Header().Set("Retry-After", ra)
		http.Error(w, "Too Many Requests", http.StatusTooManyRequests)
		return
	}
	if len(f.fail) > 0 {
		status := f.fail[0]
		f.fail = f.fail[1:]
		http.Error(w, "upstream trouble", status)
		return
	}
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	if r.URL.Path != "/update" {
		http.NotFound(w, r)
		return
	}
	ko := func() { fmt.Fprint(w, "KO") }
	if q.Get("token") != f.token || q.Get("domains") == "" {
		ko()
		return
	}
	var names []*fakeName
	for d := range strings.SplitSeq(q.Get("domains"), ",") {
		n := f.domains[strings.TrimSuffix(strings.ToLower(d), ".duckdns.org")]
		if n == nil {
			ko()
			return
		}
		names = append(names, n)
	}
	clearAll := q.Get("clear") == "true"
	verbose := q.Get("verbose") == "true"
	if _, isTXT := q["txt"]; isTXT {
		txt := q.Get("txt")
		if clearAll {
			txt = ""
		}
		changed := "NOCHANGE"
		for _, n := range names {
			if n.txt != txt {
				n.txt, changed = txt, "UPDATED"
			}
		}
		if verbose {
			fmt.Fprintf(w, "OK\n%s\n%s", txt, changed)
		} else {
			fmt.Fprint(w, "OK")
		}
		return
	}
	var v4, v6 string
	set4, set6 := false, false
	if !clearAll {
		ip, ipv6 := q.Get("ip"), q.Get("ipv6")
		if ip == "" && ipv6 == "" {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			if a, err := netip.ParseAddr(host); err == nil && a.Is4() {
				v4, set4 = a.String(), true
			}
		}
		if ip != "" {
			a, err := netip.ParseAddr(ip)
			if err != nil {
				ko()
				return
			}
			if a.Is4() {
				v4, set4 = a.String(), true
			} else {
				v6, set6 = a.String(), true
			}
		}
		if ipv6 != "" {
			a, err := netip.ParseAddr(ipv6)
			if err != nil || !a.Is6() {
				ko()
				return
			}
			v6, set6 = a.String(), true
		}
	}
	changed := "NOCHANGE"
	for _, n := range names {
		old := *n
		if clearAll {
			n.v4, n.v6 = "", ""
		}
		if set4 {
			n.v4 = v4
		}
		if set6 {
			n.v6 = v6
		}
		if *n != old {
			changed = "UPDATED"
		}
	}
	if verbose {
		fmt.Fprintf(w, "OK\n%s\n%s\n%s", names[0].v4, names[0].v6, changed)
	} else {
		fmt.Fprint(w, "OK")
	}
}

func (f *fakeDuck) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
	rest, ok := strings.CutSuffix(name, ".duckdns.org")
	labels := strings.Split(rest, ".")
	var n *fakeName
	if ok {
		n = f.domains[labels[len(labels)-1]]
	}
	if n == nil {
		m.Rcode = dns.RcodeNameError
		_ = w.WriteMsg(m)
		return
	}
	hdr := dns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: dns.ClassINET, Ttl: 60}
	switch {
	case q.Qtype == dns.TypeA && n.v4 != "":
		m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: net.ParseIP(n.v4)})
	case q.Qtype == dns.TypeAAAA && n.v6 != "":
		m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: net.ParseIP(n.v6)})
	case q.Qtype == dns.TypeTXT && n.txt != "":
		m.Answer = append(m.Answer, &dns.TXT{Hdr: hdr, Txt: []string{n.txt}})
	}
	_ = w.WriteMsg(m)
}
