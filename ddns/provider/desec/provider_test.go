package desec_test

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
	"github.com/libdns/libdns"

	"github.com/hearthbox/hearth/ddns/provider/desec"
	"github.com/hearthbox/hearth/ddns/provider/providertest"
)

const zone = "myhome.dedyn.io"

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
	_, p := newFake(t, zone)
	providertest.Run(t, p, zone)
}

func TestGetRecords(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(f *fakeDesec)
		zone     string
		want     []libdns.Record
		wantReqs int
	}{
		{
			name:     "empty domain",
			zone:     zone + ".",
			wantReqs: 1,
		},
		{
			name: "types and quoting",
			setup: func(f *fakeDesec) {
				f.put(zone, "", "A", 3600, "192.0.2.1")
				f.put(zone, "", "MX", 3600, "10 mail.example.net.")
				f.put(zone, "_acme-challenge", "TXT", 3600, `"token-one"`, `"say \"hi\" \\ " "and more"`)
				f.put(zone, "v6", "AAAA", 7200, "2001:db8::1")
			},
			zone: zone,
			want: []libdns.Record{
				libdns.Address{Name: "@", TTL: time.Hour, IP: ip("192.0.2.1")},
				libdns.MX{Name: "@", TTL: time.Hour, Preference: 10, Target: "mail.example.net."},
				libdns.TXT{Name: "_acme-challenge", TTL: time.Hour, Text: "token-one"},
				libdns.TXT{Name: "_acme-challenge", TTL: time.Hour, Text: `say "hi" \ and more`},
				libdns.Address{Name: "v6", TTL: 2 * time.Hour, IP: ip("2001:db8::1")},
			},
			wantReqs: 1,
		},
		{
			name: "pages followed",
			setup: func(f *fakeDesec) {
				f.mu.Lock()
				f.pageSize = 2
				f.mu.Unlock()
				for _, sub := range []string{"a", "b", "c", "d", "e"} {
					f.put(zone, sub, "A", 3600, "192.0.2.9")
				}
			},
			zone: zone,
			want: []libdns.Record{
				libdns.Address{Name: "a", TTL: time.Hour, IP: ip("192.0.2.9")},
				libdns.Address{Name: "b", TTL: time.Hour, IP: ip("192.0.2.9")},
				libdns.Address{Name: "c", TTL: time.Hour, IP: ip("192.0.2.9")},
				libdns.Address{Name: "d", TTL: time.Hour, IP: ip("192.0.2.9")},
				libdns.Address{Name: "e", TTL: time.Hour, IP: ip("192.0.2.9")},
			},
			wantReqs: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, zone)
			if tt.setup != nil {
				tt.setup(f)
			}
			got, err := p.GetRecords(t.Context(), tt.zone)
			if err != nil {
				t.Fatalf("GetRecords: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, addrs); diff != "" {
				t.Errorf("GetRecords (-want +got):\n%s", diff)
			}
			if got := len(f.log()); got != tt.wantReqs {
				t.Errorf("requests: got %d, want %d: %v", got, tt.wantReqs, f.log())
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(f *fakeDesec, p *desec.Provider)
		call       func(p *desec.Provider) error
		wantIs     error
		wantInErr  string
		wantNoReqs bool
	}{
		{
			name:      "wrong token",
			setup:     func(_ *fakeDesec, p *desec.Provider) { p.Token = "wrong-token" },
			call:      func(p *desec.Provider) error { _, err := p.GetRecords(t.Context(), zone); return err },
			wantIs:    desec.ErrUnauthorized,
			wantInErr: "deSEC answered 401 Unauthorized: Invalid token.",
		},
		{
			name:      "unknown domain",
			call:      func(p *desec.Provider) error { _, err := p.GetRecords(t.Context(), "other.dedyn.io"); return err },
			wantIs:    desec.ErrNotFound,
			wantInErr: "GET /api/v1/domains/other.dedyn.io/rrsets/: deSEC answered 404 Not Found: Not found.",
		},
		{
			name:  "refused RRset",
			setup: func(f *fakeDesec, _ *desec.Provider) { f.put(zone, "www", "CNAME", 3600, "elsewhere.example.") },
			call: func(p *desec.Provider) error {
				_, err := p.AppendRecords(t.Context(), zone, []libdns.Record{libdns.Address{Name: "www", IP: ip("192.0.2.1")}})
				return err
			},
			wantInErr: "RRset with conflicting type present: CNAME",
		},
		{
			name:       "empty token",
			setup:      func(_ *fakeDesec, p *desec.Provider) { p.Token = "" },
			call:       func(p *desec.Provider) error { _, err := p.GetRecords(t.Context(), zone); return err },
			wantIs:     desec.ErrInvalid,
			wantInErr:  "field Token is empty",
			wantNoReqs: true,
		},
		{
			name:       "plain http to a remote host",
			setup:      func(_ *fakeDesec, p *desec.Provider) { p.BaseURL = "http://desec.io/api/v1" },
			call:       func(p *desec.Provider) error { _, err := p.GetRecords(t.Context(), zone); return err },
			wantIs:     desec.ErrInvalid,
			wantInErr:  "field BaseURL",
			wantNoReqs: true,
		},
		{
			name:       "bad zone",
			call:       func(p *desec.Provider) error { _, err := p.GetRecords(t.Context(), "bad..zone"); return err },
			wantIs:     desec.ErrInvalid,
			wantInErr:  `zone "bad..zone"`,
			wantNoReqs: true,
		},
		{
			name: "A record with an IPv6 address",
			call: func(p *desec.Provider) error {
				_, err := p.SetRecords(t.Context(), zone, []libdns.Record{libdns.RR{Name: "@", Type: "A", Data: "2001:db8::1"}})
				return err
			},
			wantIs:     desec.ErrInvalid,
			wantInErr:  `record 0: name "@" type A: data "2001:db8::1": not an IPv4 address`,
			wantNoReqs: true,
		},
		{
			name: "name outside the zone",
			call: func(p *desec.Provider) error {
				_, err := p.SetRecords(t.Context(), zone, []libdns.Record{
					libdns.TXT{Name: "ok", Text: "x"},
					libdns.TXT{Name: "www.example.com.", Text: "x"},
				})
				return err
			},
			wantIs:     desec.ErrInvalid,
			wantInErr:  `record 1: name "www.example.com." is not inside zone myhome.dedyn.io`,
			wantNoReqs: true,
		},
		{
			name: "empty data",
			call: func(p *desec.Provider) error {
				_, err := p.AppendRecords(t.Context(), zone, []libdns.Record{libdns.TXT{Name: "x"}})
				return err
			},
			wantIs:     desec.ErrInvalid,
			wantInErr:  `record 0: name "x" type TXT: data is empty`,
			wantNoReqs: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, zone)
			if tt.setup != nil {
				tt.setup(f, p)
			}
			err := tt.call(p)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("got error %v, want one that is %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("got error %q, want it to contain %q", err, tt.wantInErr)
			}
			if !strings.HasPrefix(err.Error(), "desec: ") {
				t.Errorf("got error %q, want it to start with %q", err, "desec: ")
			}
			if tt.wantNoReqs && len(f.log()) != 0 {
				t.Errorf("got requests %v, want none", f.log())
			}
		})
	}
}

func TestAppendRecords(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(f *fakeDesec)
		recs       []libdns.Record
		want       []libdns.Record
		wantState  []string
		wantWrites int
	}{
		{
			name: "new TXT gets the minimum TTL and quotes",
			recs: []libdns.Record{libdns.TXT{Name: "_acme-challenge", TTL: 2 * time.Minute, Text: `tok "q"`}},
			want: []libdns.Record{libdns.TXT{Name: "_acme-challenge", TTL: time.Hour, Text: `tok "q"`}},
			wantState: []string{
				`_acme-challenge TXT 3600 "tok \"q\""`,
			},
			wantWrites: 1,
		},
		{
			name:  "existing RRset keeps its TTL and values",
			setup: func(f *fakeDesec) { f.put(zone, "_acme-challenge", "TXT", 7200, `"old"`) },
			recs:  []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "new"}},
			want:  []libdns.Record{libdns.TXT{Name: "_acme-challenge", TTL: 2 * time.Hour, Text: "new"}},
			wantState: []string{
				`_acme-challenge TXT 7200 "old"|"new"`,
			},
			wantWrites: 1,
		},
		{
			name:  "existing value is not written again",
			setup: func(f *fakeDesec) { f.put(zone, "", "A", 3600, "192.0.2.1") },
			recs:  []libdns.Record{libdns.Address{Name: "@", IP: ip("192.0.2.1")}},
			want:  []libdns.Record{libdns.Address{Name: "@", TTL: time.Hour, IP: ip("192.0.2.1")}},
			wantState: []string{
				" A 3600 192.0.2.1",
			},
		},
		{
			name: "several RRsets in one request",
			recs: []libdns.Record{
				libdns.Address{Name: "@", IP: ip("192.0.2.1"), TTL: 2 * time.Hour},
				libdns.Address{Name: "@", IP: ip("2001:db8::1")},
				libdns.TXT{Name: "_acme-challenge.myhome.dedyn.io.", Text: "a"},
			},
			want: []libdns.Record{
				libdns.Address{Name: "@", TTL: 2 * time.Hour, IP: ip("192.0.2.1")},
				libdns.Address{Name: "@", TTL: time.Hour, IP: ip("2001:db8::1")},
				libdns.TXT{Name: "_acme-challenge", TTL: time.Hour, Text: "a"},
			},
			wantState: []string{
				" A 7200 192.0.2.1",
				" AAAA 3600 2001:db8::1",
				`_acme-challenge TXT 3600 "a"`,
			},
			wantWrites: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, zone)
			if tt.setup != nil {
				tt.setup(f)
			}
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
			if got := len(writes(f.log())); got != tt.wantWrites {
				t.Errorf("write requests: got %d, want %d: %v", got, tt.wantWrites, f.log())
			}
		})
	}
}

func TestSetRecords(t *testing.T) {
	tests := []struct {
		name      string
		recs      []libdns.Record
		want      []libdns.Record
		wantState []string
	}{
		{
			name: "replaces the RRset and leaves others",
			recs: []libdns.Record{libdns.Address{Name: "@", TTL: 5 * time.Minute, IP: ip("192.0.2.7")}},
			want: []libdns.Record{libdns.Address{Name: "@", TTL: time.Hour, IP: ip("192.0.2.7")}},
			wantState: []string{
				" A 3600 192.0.2.7",
				" AAAA 3600 2001:db8::1",
				`_acme-challenge TXT 3600 "keep"`,
			},
		},
		{
			name: "several values and types, smallest TTL",
			recs: []libdns.Record{
				libdns.Address{Name: "@", TTL: 3 * time.Hour, IP: ip("192.0.2.7")},
				libdns.Address{Name: "@", TTL: 2 * time.Hour, IP: ip("192.0.2.8")},
				libdns.Address{Name: "@", TTL: 2 * time.Hour, IP: ip("2001:db8::0:2")},
			},
			want: []libdns.Record{
				libdns.Address{Name: "@", TTL: 2 * time.Hour, IP: ip("192.0.2.7")},
				libdns.Address{Name: "@", TTL: 2 * time.Hour, IP: ip("192.0.2.8")},
				libdns.Address{Name: "@", TTL: 2 * time.Hour, IP: ip("2001:db8::2")},
			},
			wantState: []string{
				" A 7200 192.0.2.7|192.0.2.8",
				" AAAA 7200 2001:db8::2",
				`_acme-challenge TXT 3600 "keep"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, zone)
			f.put(zone, "", "A", 3600, "192.0.2.1", "192.0.2.2")
			f.put(zone, "", "AAAA", 3600, "2001:db8::1")
			f.put(zone, "_acme-challenge", "TXT", 3600, `"keep"`)
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
			if diff := cmp.Diff([]string{"PUT /api/v1/domains/myhome.dedyn.io/rrsets/"}, f.log()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeleteRecords(t *testing.T) {
	tests := []struct {
		name       string
		recs       []libdns.Record
		want       []libdns.Record
		wantState  []string
		wantWrites int
	}{
		{
			name: "one value of two",
			recs: []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "one"}},
			want: []libdns.Record{libdns.TXT{Name: "_acme-challenge", TTL: time.Hour, Text: "one"}},
			wantState: []string{
				" A 7200 192.0.2.1",
				`_acme-challenge TXT 3600 "two"`,
			},
			wantWrites: 1,
		},
		{
			name: "name and type only",
			recs: []libdns.Record{libdns.RR{Name: "_acme-challenge", Type: "TXT"}},
			want: []libdns.Record{
				libdns.TXT{Name: "_acme-challenge", TTL: time.Hour, Text: "one"},
				libdns.TXT{Name: "_acme-challenge", TTL: time.Hour, Text: "two"},
			},
			wantState:  []string{" A 7200 192.0.2.1"},
			wantWrites: 1,
		},
		{
			name: "name only",
			recs: []libdns.Record{libdns.RR{Name: "@"}},
			want: []libdns.Record{libdns.Address{Name: "@", TTL: 2 * time.Hour, IP: ip("192.0.2.1")}},
			wantState: []string{
				`_acme-challenge TXT 3600 "one"|"two"`,
			},
			wantWrites: 1,
		},
		{
			name: "TTL must match",
			recs: []libdns.Record{libdns.Address{Name: "@", TTL: time.Hour, IP: ip("192.0.2.1")}},
			wantState: []string{
				" A 7200 192.0.2.1",
				`_acme-challenge TXT 3600 "one"|"two"`,
			},
		},
		{
			name: "short TTL matches after the clamp",
			recs: []libdns.Record{libdns.TXT{Name: "_acme-challenge", TTL: time.Minute, Text: "two"}},
			want: []libdns.Record{libdns.TXT{Name: "_acme-challenge", TTL: time.Hour, Text: "two"}},
			wantState: []string{
				" A 7200 192.0.2.1",
				`_acme-challenge TXT 3600 "one"`,
			},
			wantWrites: 1,
		},
		{
			name: "absent record",
			recs: []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "three"}},
			wantState: []string{
				" A 7200 192.0.2.1",
				`_acme-challenge TXT 3600 "one"|"two"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, zone)
			f.put(zone, "", "A", 7200, "192.0.2.1")
			f.put(zone, "_acme-challenge", "TXT", 3600, `"one"`, `"two"`)
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
			if got := len(writes(f.log())); got != tt.wantWrites {
				t.Errorf("write requests: got %d, want %d: %v", got, tt.wantWrites, f.log())
			}
		})
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name        string
		throttle    []string
		fail        []int
		maxWait     time.Duration
		wantIs      error
		wantInErr   string
		wantReqs    int
		wantAtLeast time.Duration
	}{
		{name: "429 honoured", throttle: []string{"1"}, wantReqs: 2, wantAtLeast: time.Second},
		{name: "429 too long to wait", throttle: []string{"3600"}, maxWait: 5 * time.Second, wantIs: desec.ErrRateLimited,
			wantInErr: "429 Too Many Requests (retry after 1h0m0s): Request was throttled. Expected available in 3600 seconds.", wantReqs: 1},
		{name: "429 every time", throttle: []string{"0", "0", "0", "0", "0"}, wantIs: desec.ErrRateLimited, wantInErr: "429", wantReqs: 4},
		{name: "503 retried", fail: []int{503, 502}, wantReqs: 3},
		{name: "503 every time", fail: []int{503, 503, 503, 503}, wantInErr: "deSEC answered 503 Service Unavailable: <html><body>503 upstream trouble</body></html>", wantReqs: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p := newFake(t, zone)
			f.mu.Lock()
			f.throttle, f.fail = tt.throttle, tt.fail
			f.mu.Unlock()
			p.MaxRetryWait = tt.maxWait
			start := time.Now()
			_, err := p.GetRecords(t.Context(), zone)
			took := time.Since(start)
			if tt.wantInErr == "" && err != nil {
				t.Fatalf("GetRecords: %v", err)
			}
			if tt.wantInErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantInErr)) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantInErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("got error %v, want one that is %v", err, tt.wantIs)
			}
			if got := len(f.log()); got != tt.wantReqs {
				t.Errorf("requests: got %d, want %d", got, tt.wantReqs)
			}
			if took < tt.wantAtLeast {
				t.Errorf("took %s, want at least %s", took, tt.wantAtLeast)
			}
		})
	}
}

func TestContextCancelled(t *testing.T) {
	f, p := newFake(t, zone)
	f.mu.Lock()
	f.throttle = []string{"5"}
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.GetRecords(ctx, zone)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got error %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %s, want the wait cut short by the context", took)
	}
}

func TestTokenNeverShown(t *testing.T) {
	p := &desec.Provider{Token: fakeToken, BaseURL: "https://desec.example/api/v1"}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("provider", "p", p)
	shown := map[string]string{
		"%v":  fmt.Sprintf("%v", p),
		"%+v": fmt.Sprintf("%+v", p),
		"%#v": fmt.Sprintf("%#v", p),
		"log": logged.String(),
	}
	// An error from a refused request, and one from a dead server.
	_, live := newFake(t, zone)
	live.Token = "wrong-but-secret-token"
	_, err := live.GetRecords(t.Context(), zone)
	shown["refused"] = fmt.Sprint(err)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	gone := &desec.Provider{Token: fakeToken, BaseURL: dead.URL}
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
