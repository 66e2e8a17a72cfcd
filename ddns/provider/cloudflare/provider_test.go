package cloudflare_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/libdns/libdns"

	"github.com/hearthbox/hearth/ddns/provider/cloudflare"
	"github.com/hearthbox/hearth/ddns/provider/providertest"
)

const zone = "example.com"

var addrs = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// writes returns the requests in log that were not GETs.
func writes(log []string) []string {
	var out []string
	for _, l := range log {
		if !strings.HasPrefix(l, "GET ") {
			out = append(out, l)
		}
	}
	return out
}

func TestContract(t *testing.T) {
	f, p := newFake(t, zone, "other.example")
	f.add(zone, "NS", zone, "ns1.cloudflare.com", 86400)
	providertest.Run(t, p, zone)
}

func TestGetRecords(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(f *fakeCloudflare)
		want     []libdns.Record
		wantReqs int
	}{
		{
			name:     "empty zone",
			wantReqs: 2,
		},
		{
			name: "types, TTLs and TXT quoting",
			setup: func(f *fakeCloudflare) {
				f.add(zone, "A", zone, "192.0.2.1", 1)
				f.add(zone, "AAAA", "v6.example.com", "2001:db8::1", 300)
				f.add(zone, "TXT", "_acme-challenge.example.com", `"quoted \"value\"" " more"`, 120)
				f.add(zone, "TXT", "legacy.example.com", "v=spf1 include:x -all", 1)
				f.add(zone, "MX", zone, "mail.example.com", 3600)
				f.add(zone, "CNAME", "www.example.com", "example.com", 1)
				f.add(zone, "SRV", "_sip._tcp.example.com", "5 5060 sip.example.com", 1)
			},
			want: []libdns.Record{
				libdns.Address{Name: "@", IP: ip("192.0.2.1")},
				libdns.Address{Name: "v6", TTL: 5 * time.Minute, IP: ip("2001:db8::1")},
				libdns.TXT{Name: "_acme-challenge", TTL: 2 * time.Minute, Text: `quoted "value" more`},
				libdns.TXT{Name: "legacy", Text: "v=spf1 include:x -all"},
				libdns.MX{Name: "@", TTL: time.Hour, Target: "mail.example.com"},
				libdns.CNAME{Name: "www", Target: "example.com"},
				libdns.RR{Name: "_sip._tcp", Type: "SRV", Data: "5 5060 sip.example.com"},
			},
			wantReqs: 2,
		},
		{
			name: "pages followed",
			setup: func(f *fakeCloudflare) {
				f.mu.Lock()
				f.maxPerPage = 2
				f.mu.Unlock()
				for _, n := range []string{"a", "b", "c", "d", "e"} {
					f.add(zone, "A", n+".example.com", "192.0.2.9", 1)
				}
			},
			want: []libdns.Record{
				libdns.Address{Name: "a", IP: ip("192.0.2.9")},
				libdns.Address{Name: "b", IP: ip("192.0.2.9")},
				libdns.Address{Name: "c", IP: ip("192.0.2.9")},
				libdns.Address{Name: "d", IP: ip("192.0.2.9")},
				libdns.Address{Name: "e", IP: ip("192.0.2.9")},
			},
			wantReqs: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, zone)
			if tt.setup != nil {
				tt.setup(f)
			}
			got, err := p.GetRecords(t.Context(), zone+".")
			if err != nil {
				t.Fatalf("GetRecords: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, addrs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("GetRecords (-want +got):\n%s", diff)
			}
			if got := len(f.log()); got != tt.wantReqs {
				t.Errorf("requests: got %d, want %d: %v", got, tt.wantReqs, f.log())
			}
		})
	}
}

func TestZoneIDCached(t *testing.T) {
	f, p := newFake(t, zone)
	for range 3 {
		if _, err := p.GetRecords(t.Context(), zone); err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
	}
	lookups := 0
	for _, l := range f.log() {
		if strings.HasPrefix(l, "GET /client/v4/zones?") {
			lookups++
		}
	}
	if lookups != 1 {
		t.Errorf("zone lookups: got %d, want 1: %v", lookups, f.log())
	}
}

func TestAppendRecords(t *testing.T) {
	tests := []struct {
		name      string
		recs      []libdns.Record
		want      []libdns.Record
		wantState []string
	}{
		{
			name:      "TXT with TTL 0 is automatic and quoted",
			recs:      []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: `tok "q"`}},
			want:      []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: `tok "q"`}},
			wantState: []string{`rec0002 TXT _acme-challenge.example.com 1 "tok \"q\""`},
		},
		{
			name: "short TTL raised, long lowered, MX priority",
			recs: []libdns.Record{
				libdns.Address{Name: "@", TTL: 10 * time.Second, IP: ip("192.0.2.1")},
				libdns.Address{Name: "@", TTL: 1000 * time.Hour, IP: ip("2001:db8::1")},
				libdns.MX{Name: "@", TTL: time.Hour, Preference: 10, Target: "mail.example.com."},
			},
			want: []libdns.Record{
				libdns.Address{Name: "@", TTL: time.Minute, IP: ip("192.0.2.1")},
				libdns.Address{Name: "@", TTL: 24 * time.Hour, IP: ip("2001:db8::1")},
				libdns.MX{Name: "@", TTL: time.Hour, Preference: 10, Target: "mail.example.com"},
			},
			wantState: []string{
				"rec0002 A example.com 60 192.0.2.1",
				"rec0003 AAAA example.com 86400 2001:db8::1",
				"rec0004 MX example.com 3600 mail.example.com prio=10",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, zone)
			f.mu.Lock()
			f.nextID = 1
			f.mu.Unlock()
			got, err := p.AppendRecords(t.Context(), zone, tt.recs)
			if err != nil {
				t.Fatalf("AppendRecords: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, addrs); diff != "" {
				t.Errorf("AppendRecords (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantState, f.state(zone)); diff != "" {
				t.Errorf("zone after AppendRecords (-want +got):\n%s", diff)
			}
			if got, want := len(writes(f.log())), len(tt.recs); got != want {
				t.Errorf("write requests: got %d, want %d: %v", got, want, f.log())
			}
		})
	}
}

func TestSetRecords(t *testing.T) {
	tests := []struct {
		name       string
		recs       []libdns.Record
		want       []libdns.Record
		wantState  []string
		wantWrites []string
	}{
		{
			name: "value already held is kept, the other record goes",
			recs: []libdns.Record{libdns.Address{Name: "@", TTL: 5 * time.Minute, IP: ip("192.0.2.2")}},
			want: []libdns.Record{libdns.Address{Name: "@", TTL: 5 * time.Minute, IP: ip("192.0.2.2")}},
			wantState: []string{
				"rec0002 A example.com 300 192.0.2.2",
				`rec0003 TXT _acme-challenge.example.com 120 "keep"`,
			},
			wantWrites: []string{"DELETE /client/v4/zones/023e105f4ecef8ad9ca31a8372d0c350/dns_records/rec0001"},
		},
		{
			name: "new value updates in place and keeps the proxy setting",
			recs: []libdns.Record{libdns.Address{Name: "@", TTL: 5 * time.Minute, IP: ip("192.0.2.7")}},
			want: []libdns.Record{libdns.Address{Name: "@", TTL: 5 * time.Minute, IP: ip("192.0.2.7")}},
			wantState: []string{
				"rec0001 A example.com 300 192.0.2.7 proxied",
				`rec0003 TXT _acme-challenge.example.com 120 "keep"`,
			},
			wantWrites: []string{
				"PUT /client/v4/zones/023e105f4ecef8ad9ca31a8372d0c350/dns_records/rec0001",
				"DELETE /client/v4/zones/023e105f4ecef8ad9ca31a8372d0c350/dns_records/rec0002",
			},
		},
		{
			name: "TTL change and a new value",
			recs: []libdns.Record{
				libdns.Address{Name: "@", TTL: 10 * time.Minute, IP: ip("192.0.2.1")},
				libdns.Address{Name: "@", TTL: 10 * time.Minute, IP: ip("192.0.2.2")},
				libdns.Address{Name: "@", TTL: 10 * time.Minute, IP: ip("192.0.2.3")},
				libdns.TXT{Name: "_acme-challenge", TTL: 2 * time.Minute, Text: "keep"},
			},
			want: []libdns.Record{
				libdns.Address{Name: "@", TTL: 10 * time.Minute, IP: ip("192.0.2.1")},
				libdns.Address{Name: "@", TTL: 10 * time.Minute, IP: ip("192.0.2.2")},
				libdns.Address{Name: "@", TTL: 10 * time.Minute, IP: ip("192.0.2.3")},
				libdns.TXT{Name: "_acme-challenge", TTL: 2 * time.Minute, Text: "keep"},
			},
			wantState: []string{
				"rec0001 A example.com 600 192.0.2.1 proxied",
				"rec0002 A example.com 600 192.0.2.2",
				`rec0003 TXT _acme-challenge.example.com 120 "keep"`,
				"rec0004 A example.com 600 192.0.2.3",
			},
			wantWrites: []string{
				"PUT /client/v4/zones/023e105f4ecef8ad9ca31a8372d0c350/dns_records/rec0001",
				"PUT /client/v4/zones/023e105f4ecef8ad9ca31a8372d0c350/dns_records/rec0002",
				"POST /client/v4/zones/023e105f4ecef8ad9ca31a8372d0c350/dns_records",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, zone)
			id := f.add(zone, "A", zone, "192.0.2.1", 300)
			f.setProxied(zone, id)
			f.add(zone, "A", zone, "192.0.2.2", 300)
			f.add(zone, "TXT", "_acme-challenge.example.com", `"keep"`, 120)
			got, err := p.SetRecords(t.Context(), zone, tt.recs)
			if err != nil {
				t.Fatalf("SetRecords: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, addrs); diff != "" {
				t.Errorf("SetRecords (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantState, f.state(zone)); diff != "" {
				t.Errorf("zone after SetRecords (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWrites, writes(f.log())); diff != "" {
				t.Errorf("write requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeleteRecords(t *testing.T) {
	tests := []struct {
		name      string
		recs      []libdns.Record
		want      []libdns.Record
		wantState []string
	}{
		{
			name: "one value of two",
			recs: []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "one"}},
			want: []libdns.Record{libdns.TXT{Name: "_acme-challenge", TTL: 2 * time.Minute, Text: "one"}},
			wantState: []string{
				"rec0001 A example.com 1 192.0.2.1",
				"rec0003 TXT _acme-challenge.example.com 120 two",
			},
		},
		{
			name: "name and type only",
			recs: []libdns.Record{libdns.RR{Name: "_acme-challenge.example.com.", Type: "TXT"}},
			want: []libdns.Record{
				libdns.TXT{Name: "_acme-challenge", TTL: 2 * time.Minute, Text: "one"},
				libdns.TXT{Name: "_acme-challenge", TTL: 2 * time.Minute, Text: "two"},
			},
			wantState: []string{"rec0001 A example.com 1 192.0.2.1"},
		},
		{
			name: "TTL must match",
			recs: []libdns.Record{libdns.TXT{Name: "_acme-challenge", TTL: time.Hour, Text: "one"}},
			wantState: []string{
				"rec0001 A example.com 1 192.0.2.1",
				`rec0002 TXT _acme-challenge.example.com 120 "one"`,
				"rec0003 TXT _acme-challenge.example.com 120 two",
			},
		},
		{
			name: "automatic TTL is 0",
			recs: []libdns.Record{libdns.Address{Name: "@", IP: ip("192.0.2.1")}},
			want: []libdns.Record{libdns.Address{Name: "@", IP: ip("192.0.2.1")}},
			wantState: []string{
				`rec0002 TXT _acme-challenge.example.com 120 "one"`,
				"rec0003 TXT _acme-challenge.example.com 120 two",
			},
		},
		{
			name: "absent record",
			recs: []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "three"}},
			wantState: []string{
				"rec0001 A example.com 1 192.0.2.1",
				`rec0002 TXT _acme-challenge.example.com 120 "one"`,
				"rec0003 TXT _acme-challenge.example.com 120 two",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, zone)
			f.add(zone, "A", zone, "192.0.2.1", 1)
			f.add(zone, "TXT", "_acme-challenge.example.com", `"one"`, 120)
			f.add(zone, "TXT", "_acme-challenge.example.com", "two", 120)
			got, err := p.DeleteRecords(t.Context(), zone, tt.recs)
			if err != nil {
				t.Fatalf("DeleteRecords: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, addrs); diff != "" {
				t.Errorf("DeleteRecords (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantState, f.state(zone)); diff != "" {
				t.Errorf("zone after DeleteRecords (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(f *fakeCloudflare, p *cloudflare.Provider)
		call       func(ctx context.Context, p *cloudflare.Provider) error
		wantIs     error
		wantInErr  string
		wantNoReqs bool
	}{
		{
			name:      "wrong token",
			setup:     func(_ *fakeCloudflare, p *cloudflare.Provider) { p.APIToken = "wrong-token" },
			call:      getRecords(zone),
			wantIs:    cloudflare.ErrUnauthorized,
			wantInErr: "GET /client/v4/zones: Cloudflare answered 403 Forbidden: 9109 Invalid access token",
		},
		{
			name:      "unknown zone",
			call:      getRecords("example.net"),
			wantIs:    cloudflare.ErrNotFound,
			wantInErr: "zone example.net: not in this Cloudflare account",
		},
		{
			name:  "identical record",
			setup: func(f *fakeCloudflare, _ *cloudflare.Provider) { f.add(zone, "A", "www.example.com", "192.0.2.1", 1) },
			call: func(ctx context.Context, p *cloudflare.Provider) error {
				_, err := p.AppendRecords(ctx, zone, []libdns.Record{libdns.Address{Name: "www", IP: ip("192.0.2.1")}})
				return err
			},
			wantInErr: "POST /client/v4/zones/023e105f4ecef8ad9ca31a8372d0c350/dns_records: Cloudflare answered 400 Bad Request: 81058 An identical record already exists.",
		},
		{
			name:       "empty token",
			setup:      func(_ *fakeCloudflare, p *cloudflare.Provider) { p.APIToken = "" },
			call:       getRecords(zone),
			wantIs:     cloudflare.ErrInvalid,
			wantInErr:  "field APIToken is empty",
			wantNoReqs: true,
		},
		{
			name:       "plain http to a remote host",
			setup:      func(_ *fakeCloudflare, p *cloudflare.Provider) { p.BaseURL = "http://api.cloudflare.com/client/v4" },
			call:       getRecords(zone),
			wantIs:     cloudflare.ErrInvalid,
			wantInErr:  "field BaseURL",
			wantNoReqs: true,
		},
		{
			name: "unsupported type",
			call: func(ctx context.Context, p *cloudflare.Provider) error {
				_, err := p.AppendRecords(ctx, zone, []libdns.Record{libdns.SRV{Service: "sip", Transport: "tcp", Name: "@", Port: 5060, Target: "sip.example.com."}})
				return err
			},
			wantIs:     cloudflare.ErrUnsupported,
			wantInErr:  `record 0: name "_sip._tcp": type SRV`,
			wantNoReqs: true,
		},
		{
			name: "AAAA record with an IPv4 address",
			call: func(ctx context.Context, p *cloudflare.Provider) error {
				_, err := p.SetRecords(ctx, zone, []libdns.Record{libdns.RR{Name: "@", Type: "AAAA", Data: "192.0.2.1"}})
				return err
			},
			wantIs:     cloudflare.ErrInvalid,
			wantInErr:  `record 0: name "@" type AAAA: data "192.0.2.1": not an IPv6 address`,
			wantNoReqs: true,
		},
		{
			name: "name outside the zone",
			call: func(ctx context.Context, p *cloudflare.Provider) error {
				_, err := p.DeleteRecords(ctx, zone, []libdns.Record{libdns.TXT{Name: "x.example.net.", Text: "x"}})
				return err
			},
			wantIs:     cloudflare.ErrInvalid,
			wantInErr:  `record 0: name "x.example.net." is not inside zone example.com`,
			wantNoReqs: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, zone)
			if tt.setup != nil {
				tt.setup(f, p)
			}
			before := len(f.log())
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
			if !strings.HasPrefix(err.Error(), "cloudflare: ") {
				t.Errorf("got error %q, want it to start with %q", err, "cloudflare: ")
			}
			if tt.wantNoReqs && len(f.log()) != before {
				t.Errorf("got requests %v, want none", f.log()[before:])
			}
		})
	}
}

func getRecords(zone string) func(ctx context.Context, p *cloudflare.Provider) error {
	return func(ctx context.Context, p *cloudflare.Provider) error {
		_, err := p.GetRecords(ctx, zone)
		return err
	}
}

func TestRetries(t *testing.T) {
	appendTXT := func(ctx context.Context, p *cloudflare.Provider) error {
		_, err := p.AppendRecords(ctx, zone, []libdns.Record{libdns.TXT{Name: "x", Text: "y"}})
		return err
	}
	tests := []struct {
		name        string
		call        func(ctx context.Context, p *cloudflare.Provider) error
		throttle    []string
		fail        []int
		maxWait     time.Duration
		wantIs      error
		wantInErr   string
		wantReqs    int
		wantAtLeast time.Duration
	}{
		{name: "GET 429 honoured", call: getRecords(zone), throttle: []string{"1"}, wantReqs: 2, wantAtLeast: time.Second},
		{name: "POST 429 retried", call: appendTXT, throttle: []string{"0", "0"}, wantReqs: 3},
		{name: "429 too long to wait", call: getRecords(zone), throttle: []string{"120"}, maxWait: time.Second, wantIs: cloudflare.ErrRateLimited,
			wantInErr: "429 Too Many Requests (retry after 2m0s): 971 Please wait and consider throttling your request speed", wantReqs: 1},
		{name: "429 every time", call: appendTXT, throttle: []string{"0", "0", "0", "0"}, wantIs: cloudflare.ErrRateLimited, wantInErr: "429", wantReqs: 4},
		{name: "GET 502 retried", call: getRecords(zone), fail: []int{502, 503}, wantReqs: 3},
		{name: "POST 502 not retried", call: appendTXT, fail: []int{502}, wantInErr: "Cloudflare answered 502 Bad Gateway: error code: 502", wantReqs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, zone)
			p.MaxRetryWait = tt.maxWait
			// Learn the zone id first, so that only the call's own
			// requests meet the throttling and failures.
			if _, err := p.GetRecords(t.Context(), zone); err != nil {
				t.Fatalf("warm-up GetRecords: %v", err)
			}
			before := len(f.log())
			f.mu.Lock()
			f.throttle, f.fail = tt.throttle, tt.fail
			f.mu.Unlock()
			start := time.Now()
			err := tt.call(t.Context(), p)
			took := time.Since(start)
			if tt.wantInErr == "" && err != nil {
				t.Fatalf("call: %v", err)
			}
			if tt.wantInErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantInErr)) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantInErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("got error %v, want one that is %v", err, tt.wantIs)
			}
			if got := len(f.log()) - before; got != tt.wantReqs {
				t.Errorf("requests: got %d, want %d: %v", got, tt.wantReqs, f.log()[before:])
			}
			if took < tt.wantAtLeast {
				t.Errorf("took %s, want at least %s", took, tt.wantAtLeast)
			}
		})
	}
}

func TestTokenNeverShown(t *testing.T) {
	p := &cloudflare.Provider{APIToken: fakeToken}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("provider", "p", p)
	shown := map[string]string{
		"%v":  fmt.Sprintf("%v", p),
		"%+v": fmt.Sprintf("%+v", p),
		"%#v": fmt.Sprintf("%#v", p),
		"log": logged.String(),
	}
	_, live := newFake(t, zone)
	live.APIToken = "wrong-but-secret-token"
	_, err := live.GetRecords(t.Context(), zone)
	shown["refused"] = fmt.Sprint(err)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	gone := &cloudflare.Provider{APIToken: fakeToken, BaseURL: dead.URL}
	_, err = gone.GetRecords(t.Context(), zone)
	shown["unreachable"] = fmt.Sprint(err)
	for how, s := range shown {
		if strings.Contains(s, fakeToken) || strings.Contains(s, "wrong-but-secret-token") {
			t.Errorf("%s shows the token: %s", how, s)
		}
	}
	if !strings.Contains(shown["%v"], "[REDACTED]") {
		t.Errorf("got %q, want the token shown as [REDACTED]", shown["%v"])
	}
}
