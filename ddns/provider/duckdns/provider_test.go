package duckdns_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/libdns/libdns"

	"github.com/hearthbox/hearth/ddns/provider/duckdns"
	"github.com/hearthbox/hearth/ddns/provider/providertest"
)

const (
	sub  = "myhome"
	host = "myhome.duckdns.org"
)

var addrs = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestContract(t *testing.T) {
	_, p := newFake(t, sub, "neighbour")
	providertest.Run(t, p, host)
}

func TestGetRecords(t *testing.T) {
	tests := []struct {
		name   string
		state  [3]string
		zone   string
		domain string
		want   []libdns.Record
	}{
		{name: "nothing set", zone: host, domain: sub},
		{
			name:   "all three in the name's own zone",
			state:  [3]string{"192.0.2.1", "2001:db8::1", "challenge"},
			zone:   host + ".",
			domain: host,
			want: []libdns.Record{
				libdns.Address{Name: "@", TTL: time.Minute, IP: ip("192.0.2.1")},
				libdns.Address{Name: "@", TTL: time.Minute, IP: ip("2001:db8::1")},
				libdns.TXT{Name: "_acme-challenge", TTL: time.Minute, Text: "challenge"},
			},
		},
		{
			name:   "zone duckdns.org",
			state:  [3]string{"192.0.2.1", "", "challenge"},
			zone:   "duckdns.org",
			domain: sub,
			want: []libdns.Record{
				libdns.Address{Name: sub, TTL: time.Minute, IP: ip("192.0.2.1")},
				libdns.TXT{Name: "_acme-challenge." + sub, TTL: time.Minute, Text: "challenge"},
			},
		},
		{
			name:  "no Domain: the zone names it",
			state: [3]string{"", "2001:db8::5", ""},
			zone:  host,
			want:  []libdns.Record{libdns.Address{Name: "@", TTL: time.Minute, IP: ip("2001:db8::5")}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, sub)
			f.set(sub, tt.state[0], tt.state[1], tt.state[2])
			p.Domain = tt.domain
			got, err := p.GetRecords(t.Context(), tt.zone)
			if err != nil {
				t.Fatalf("GetRecords: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, addrs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("GetRecords (-want +got):\n%s", diff)
			}
			if len(f.log()) != 0 {
				t.Errorf("GetRecords sent updates %v, want none", f.log())
			}
		})
	}
}

func TestSetRecords(t *testing.T) {
	tests := []struct {
		name      string
		before    [3]string
		zone      string
		recs      []libdns.Record
		want      []libdns.Record
		wantState string
		wantSent  []string
	}{
		{
			name:      "A alone leaves AAAA and TXT",
			before:    [3]string{"192.0.2.1", "2001:db8::1", "tok"},
			zone:      host,
			recs:      []libdns.Record{libdns.Address{Name: "@", TTL: 5 * time.Minute, IP: ip("192.0.2.2")}},
			want:      []libdns.Record{libdns.Address{Name: "@", TTL: time.Minute, IP: ip("192.0.2.2")}},
			wantState: "192.0.2.2|2001:db8::1|tok",
			wantSent:  []string{"domains=myhome&ip=192.0.2.2&verbose=true"},
		},
		{
			name:      "AAAA alone passes the current A along",
			before:    [3]string{"192.0.2.1", "", ""},
			zone:      host,
			recs:      []libdns.Record{libdns.Address{Name: "@", IP: ip("2001:db8::2")}},
			want:      []libdns.Record{libdns.Address{Name: "@", TTL: time.Minute, IP: ip("2001:db8::2")}},
			wantState: "192.0.2.1|2001:db8::2|",
			wantSent:  []string{"domains=myhome&ip=192.0.2.1&ipv6=2001%3Adb8%3A%3A2&verbose=true"},
		},
		{
			name:      "AAAA alone on a name without A adds no A",
			zone:      host,
			recs:      []libdns.Record{libdns.Address{Name: "@", IP: ip("2001:db8::2")}},
			want:      []libdns.Record{libdns.Address{Name: "@", TTL: time.Minute, IP: ip("2001:db8::2")}},
			wantState: "|2001:db8::2|",
			wantSent:  []string{"domains=myhome&ip=&ipv6=2001%3Adb8%3A%3A2&verbose=true"},
		},
		{
			name: "both addresses and TXT in zone duckdns.org",
			zone: "duckdns.org.",
			recs: []libdns.Record{
				libdns.TXT{Name: "_acme-challenge.myhome", Text: "new token"},
				libdns.Address{Name: "myhome", IP: ip("192.0.2.3")},
				libdns.Address{Name: "myhome.duckdns.org.", IP: ip("2001:db8::3")},
			},
			want: []libdns.Record{
				libdns.TXT{Name: "_acme-challenge.myhome", TTL: time.Minute, Text: "new token"},
				libdns.Address{Name: "myhome", TTL: time.Minute, IP: ip("192.0.2.3")},
				libdns.Address{Name: "myhome", TTL: time.Minute, IP: ip("2001:db8::3")},
			},
			wantState: "192.0.2.3|2001:db8::3|new token",
			wantSent: []string{
				"domains=myhome&txt=new+token&verbose=true",
				"domains=myhome&ip=192.0.2.3&ipv6=2001%3Adb8%3A%3A3&verbose=true",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, sub)
			f.set(sub, tt.before[0], tt.before[1], tt.before[2])
			got, err := p.SetRecords(t.Context(), tt.zone, tt.recs)
			if err != nil {
				t.Fatalf("SetRecords: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, addrs); diff != "" {
				t.Errorf("SetRecords (-want +got):\n%s", diff)
			}
			if got := f.state(sub); got != tt.wantState {
				t.Errorf("state after SetRecords: got %q, want %q", got, tt.wantState)
			}
			if diff := cmp.Diff(tt.wantSent, f.log()); diff != "" {
				t.Errorf("updates sent (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppendReplaces(t *testing.T) {
	f, p := newFake(t, sub)
	f.set(sub, "", "", "stale challenge")
	got, err := p.AppendRecords(t.Context(), host, []libdns.Record{libdns.RR{Name: "_acme-challenge", Type: "TXT", Data: "fresh"}})
	if err != nil {
		t.Fatalf("AppendRecords: %v", err)
	}
	want := []libdns.Record{libdns.TXT{Name: "_acme-challenge", TTL: time.Minute, Text: "fresh"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AppendRecords (-want +got):\n%s", diff)
	}
	if got, want := f.state(sub), "||fresh"; got != want {
		t.Errorf("state after AppendRecords: got %q, want %q", got, want)
	}
}

func TestDeleteRecords(t *testing.T) {
	tests := []struct {
		name      string
		recs      []libdns.Record
		want      []libdns.Record
		wantState string
		wantSent  []string
	}{
		{
			name:      "TXT by value",
			recs:      []libdns.Record{libdns.TXT{Name: "_acme-challenge", TTL: time.Hour, Text: "tok"}},
			want:      []libdns.Record{libdns.TXT{Name: "_acme-challenge", TTL: time.Minute, Text: "tok"}},
			wantState: "192.0.2.1|2001:db8::1|",
			wantSent:  []string{"clear=true&domains=myhome&txt=&verbose=true"},
		},
		{
			name:      "TXT with another value",
			recs:      []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "other"}},
			wantState: "192.0.2.1|2001:db8::1|tok",
		},
		{
			name:      "A alone: clear both, write AAAA back",
			recs:      []libdns.Record{libdns.Address{Name: "@", IP: ip("192.0.2.1")}},
			want:      []libdns.Record{libdns.Address{Name: "@", TTL: time.Minute, IP: ip("192.0.2.1")}},
			wantState: "|2001:db8::1|tok",
			wantSent: []string{
				"clear=true&domains=myhome&verbose=true",
				"domains=myhome&ip=&ipv6=2001%3Adb8%3A%3A1&verbose=true",
			},
		},
		{
			name:      "AAAA alone: clear both, write A back",
			recs:      []libdns.Record{libdns.RR{Name: "@", Type: "AAAA"}},
			want:      []libdns.Record{libdns.Address{Name: "@", TTL: time.Minute, IP: ip("2001:db8::1")}},
			wantState: "192.0.2.1||tok",
			wantSent: []string{
				"clear=true&domains=myhome&verbose=true",
				"domains=myhome&ip=192.0.2.1&verbose=true",
			},
		},
		{
			name: "name only: both addresses in one update",
			recs: []libdns.Record{libdns.RR{Name: "@"}},
			want: []libdns.Record{
				libdns.Address{Name: "@", TTL: time.Minute, IP: ip("192.0.2.1")},
				libdns.Address{Name: "@", TTL: time.Minute, IP: ip("2001:db8::1")},
			},
			wantState: "||tok",
			wantSent:  []string{"clear=true&domains=myhome&verbose=true"},
		},
		{
			name:      "types DuckDNS cannot hold match nothing",
			recs:      []libdns.Record{libdns.CNAME{Name: "@", Target: "example.com."}, libdns.TXT{Name: "www", Text: "x"}},
			wantState: "192.0.2.1|2001:db8::1|tok",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, sub)
			f.set(sub, "192.0.2.1", "2001:db8::1", "tok")
			got, err := p.DeleteRecords(t.Context(), host, tt.recs)
			if err != nil {
				t.Fatalf("DeleteRecords: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, addrs); diff != "" {
				t.Errorf("DeleteRecords (-want +got):\n%s", diff)
			}
			if got := f.state(sub); got != tt.wantState {
				t.Errorf("state after DeleteRecords: got %q, want %q", got, tt.wantState)
			}
			if diff := cmp.Diff(tt.wantSent, f.log()); diff != "" {
				t.Errorf("updates sent (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	set := func(zone string, recs ...libdns.Record) func(context.Context, *duckdns.Provider) error {
		return func(ctx context.Context, p *duckdns.Provider) error {
			_, err := p.SetRecords(ctx, zone, recs)
			return err
		}
	}
	get := func(zone string) func(context.Context, *duckdns.Provider) error {
		return func(ctx context.Context, p *duckdns.Provider) error {
			_, err := p.GetRecords(ctx, zone)
			return err
		}
	}
	tests := []struct {
		name      string
		setup     func(p *duckdns.Provider)
		call      func(context.Context, *duckdns.Provider) error
		wantIs    error
		wantInErr string
		wantSent  bool
	}{
		{
			name:      "wrong token",
			setup:     func(p *duckdns.Provider) { p.Token = "00000000-0000-0000-0000-000000000000" },
			call:      set(host, libdns.Address{Name: "@", IP: ip("192.0.2.1")}),
			wantIs:    duckdns.ErrRefused,
			wantInErr: `GET /update: DuckDNS answered 200 OK: "KO"`,
			wantSent:  true,
		},
		{
			name:      "name not on the account",
			setup:     func(p *duckdns.Provider) { p.Domain = "" },
			call:      set("duckdns.org", libdns.Address{Name: "stranger", IP: ip("192.0.2.1")}),
			wantIs:    duckdns.ErrRefused,
			wantInErr: "KO",
			wantSent:  true,
		},
		{
			name:      "name other than Domain",
			call:      set("duckdns.org", libdns.Address{Name: "neighbour", IP: ip("192.0.2.1")}),
			wantIs:    duckdns.ErrInvalid,
			wantInErr: `record 0: name "neighbour.duckdns.org" is not myhome.duckdns.org, the configured Domain`,
		},
		{
			name:      "zone outside duckdns.org",
			call:      set("example.com", libdns.Address{Name: "@", IP: ip("192.0.2.1")}),
			wantIs:    duckdns.ErrInvalid,
			wantInErr: `zone "example.com": want duckdns.org or <name>.duckdns.org`,
		},
		{
			name:      "CNAME",
			call:      set(host, libdns.CNAME{Name: "@", Target: "example.com."}),
			wantIs:    duckdns.ErrUnsupported,
			wantInErr: `record 0: name "@": type "CNAME": DuckDNS holds only A and AAAA at myhome.duckdns.org`,
		},
		{
			name:      "TXT at the name itself",
			call:      set(host, libdns.TXT{Name: "@", Text: "x"}),
			wantIs:    duckdns.ErrUnsupported,
			wantInErr: "(TXT goes to _acme-challenge.myhome.duckdns.org)",
		},
		{
			name:      "deeper name",
			call:      set(host, libdns.Address{Name: "www", IP: ip("192.0.2.1")}),
			wantIs:    duckdns.ErrUnsupported,
			wantInErr: `name "www.myhome.duckdns.org": DuckDNS holds records only at <name>.duckdns.org and _acme-challenge.<name>.duckdns.org`,
		},
		{
			name:      "two A values",
			call:      set(host, libdns.Address{Name: "@", IP: ip("192.0.2.1")}, libdns.Address{Name: "@", IP: ip("192.0.2.2")}),
			wantIs:    duckdns.ErrUnsupported,
			wantInErr: "record 1: a second A value for myhome.duckdns.org: DuckDNS holds one",
		},
		{
			name:      "TXT with a newline",
			call:      set(host, libdns.TXT{Name: "_acme-challenge", Text: "a\nb"}),
			wantIs:    duckdns.ErrInvalid,
			wantInErr: "has a control character",
		},
		{
			name:      "zone duckdns.org without Domain",
			setup:     func(p *duckdns.Provider) { p.Domain = "" },
			call:      get("duckdns.org"),
			wantIs:    duckdns.ErrInvalid,
			wantInErr: "field Domain is empty",
		},
		{
			name:      "malformed token",
			setup:     func(p *duckdns.Provider) { p.Token = "tok&ip=1.2.3.4" },
			call:      set(host, libdns.Address{Name: "@", IP: ip("192.0.2.1")}),
			wantIs:    duckdns.ErrInvalid,
			wantInErr: "field Token has a character other than letters, digits and '-'",
		},
		{
			name:      "name server unreachable",
			setup:     func(p *duckdns.Provider) { p.Nameservers = []string{closedUDPPort(t)} },
			call:      get(host),
			wantInErr: "asking for A myhome.duckdns.org",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, sub, "neighbour")
			if tt.setup != nil {
				tt.setup(p)
			}
			err := tt.call(t.Context(), p)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("got error %v, want one that is %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("got error %q, want it to contain %q", err, tt.wantInErr)
			}
			if !strings.HasPrefix(err.Error(), "duckdns: ") {
				t.Errorf("got error %q, want it to start with %q", err, "duckdns: ")
			}
			if sent := len(f.log()) > 0; sent != tt.wantSent {
				t.Errorf("updates sent: got %v, want any: %v", f.log(), tt.wantSent)
			}
		})
	}
}

// closedUDPPort returns a loopback address where nothing listens.
func closedUDPPort(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name        string
		throttle    []string
		fail        []int
		maxWait     time.Duration
		wantIs      error
		wantInErr   string
		wantSent    int
		wantAtLeast time.Duration
	}{
		{name: "429 honoured", throttle: []string{"1"}, wantSent: 2, wantAtLeast: time.Second},
		{name: "429 too long to wait", throttle: []string{"600"}, maxWait: time.Second, wantIs: duckdns.ErrRateLimited,
			wantInErr: "GET /update: DuckDNS answered 429 Too Many Requests (retry after 10m0s)", wantSent: 1},
		{name: "503 retried", fail: []int{503}, wantSent: 2},
		{name: "503 every time", fail: []int{503, 503, 503, 503}, wantInErr: `DuckDNS answered 503 Service Unavailable: "upstream trouble"`, wantSent: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, sub)
			f.mu.Lock()
			f.throttle, f.fail = tt.throttle, tt.fail
			f.mu.Unlock()
			p.MaxRetryWait = tt.maxWait
			start := time.Now()
			_, err := p.SetRecords(t.Context(), host, []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "t"}})
			took := time.Since(start)
			if tt.wantInErr == "" && err != nil {
				t.Fatalf("SetRecords: %v", err)
			}
			if tt.wantInErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantInErr)) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantInErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("got error %v, want one that is %v", err, tt.wantIs)
			}
			if got := len(f.log()); got != tt.wantSent {
				t.Errorf("updates sent: got %d, want %d", got, tt.wantSent)
			}
			if took < tt.wantAtLeast {
				t.Errorf("took %s, want at least %s", took, tt.wantAtLeast)
			}
		})
	}
}

func TestTokenNeverShown(t *testing.T) {
	p := &duckdns.Provider{Token: fakeToken, Domain: sub}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("provider", "p", p)
	shown := map[string]string{
		"%v":  fmt.Sprintf("%v", p),
		"%+v": fmt.Sprintf("%+v", p),
		"%#v": fmt.Sprintf("%#v", p),
		"log": logged.String(),
	}
	// The token travels in the update URL: a failed request must not show it.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	gone := &duckdns.Provider{Token: fakeToken, Domain: sub, BaseURL: dead.URL}
	_, err := gone.SetRecords(t.Context(), host, []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "t"}})
	if err == nil {
		t.Fatal("SetRecords against a closed server: got no error")
	}
	shown["unreachable"] = err.Error()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer slow.Close()
	timeout := &duckdns.Provider{Token: fakeToken, Domain: sub, BaseURL: slow.URL, HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}}
	_, err = timeout.SetRecords(t.Context(), host, []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "t"}})
	if err == nil {
		t.Fatal("SetRecords against a silent server: got no error")
	}
	shown["timeout"] = err.Error()
	for how, s := range shown {
		if strings.Contains(s, fakeToken) {
			t.Errorf("%s shows the token: %s", how, s)
		}
	}
	if !strings.Contains(shown["%v"], "[REDACTED]") {
		t.Errorf("got %q, want the token shown as [REDACTED]", shown["%v"])
	}
}
