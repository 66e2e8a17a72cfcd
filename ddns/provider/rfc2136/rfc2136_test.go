package rfc2136

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hearthbox/hearth/ddns/provider/providertest"
	"github.com/hearthbox/hearth/ddns/provider/rfc2136/rfc2136test"
	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

const (
	testZone   = "box.test."
	testKey    = "hearth-test."
	testSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="
)

func start(t *testing.T) (*rfc2136test.Server, *Provider) {
	t.Helper()
	srv := rfc2136test.Start(t, rfc2136test.Config{Zone: testZone, KeyName: testKey, Secret: testSecret})
	p, err := New(Config{Server: srv.Addr, KeyName: testKey, Secret: testSecret, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return srv, p
}

// rrs is the zone's records as sorted libdns RRs, without SOA and NS.
func rrs(recs []libdns.Record) []libdns.RR {
	var out []libdns.RR
	for _, r := range recs {
		rr := r.RR()
		if rr.Type == "NS" {
			continue
		}
		out = append(out, rr)
	}
	sort.Slice(out, func(i, j int) bool {
		return fmt.Sprint(out[i]) < fmt.Sprint(out[j])
	})
	return out
}

func zoneRRs(t *testing.T, p *Provider) []libdns.RR {
	t.Helper()
	recs, err := p.GetRecords(context.Background(), testZone)
	if err != nil {
		t.Fatalf("GetRecords: %v", err)
	}
	return rrs(recs)
}

func TestAppendGetDelete(t *testing.T) {
	srv, p := start(t)
	ctx := context.Background()
	in := []libdns.Record{
		libdns.TXT{Name: "_acme-challenge", Text: "token-1"},
		libdns.Address{Name: "www", TTL: 5 * time.Minute, IP: netip.MustParseAddr("192.0.2.7")},
		libdns.RR{Name: "@", Type: "AAAA", Data: "2001:db8::7", TTL: time.Minute},
	}
	got, err := p.AppendRecords(ctx, "box.test", in) // zone without the dot works too
	if err != nil {
		t.Fatalf("AppendRecords: %v", err)
	}
	want := []libdns.RR{
		{Name: "@", TTL: time.Minute, Type: "AAAA", Data: "2001:db8::7"},
		{Name: "_acme-challenge", TTL: DefaultTTL, Type: "TXT", Data: "token-1"},
		{Name: "www", TTL: 5 * time.Minute, Type: "A", Data: "192.0.2.7"},
	}
	if diff := cmp.Diff(want, rrs(got)); diff != "" {
		t.Errorf("AppendRecords result (-want +got):\n%s", diff)
	}
	if _, ok := got[0].(libdns.TXT); !ok {
		t.Errorf("got %T, want libdns.TXT (typed results)", got[0])
	}
	if diff := cmp.Diff(want, zoneRRs(t, p)); diff != "" {
		t.Errorf("zone after append (-want +got):\n%s", diff)
	}
	if n := len(srv.Lookup("_acme-challenge.box.test.", dns.TypeTXT)); n != 1 {
		t.Errorf("got %d TXT records on the server, want 1", n)
	}

	deleted, err := p.DeleteRecords(ctx, testZone, []libdns.Record{
		libdns.TXT{Name: "_acme-challenge", TTL: DefaultTTL, Text: "token-1"},
		libdns.TXT{Name: "_acme-challenge", Text: "not-there"},
	})
	if err != nil {
		t.Fatalf("DeleteRecords: %v", err)
	}
	if diff := cmp.Diff(want[1:2], rrs(deleted)); diff != "" {
		t.Errorf("DeleteRecords result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]libdns.RR{want[0], want[2]}, zoneRRs(t, p)); diff != "" {
		t.Errorf("zone after delete (-want +got):\n%s", diff)
	}

	before := srv.Updates()
	deleted, err = p.DeleteRecords(ctx, testZone, []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "token-1"}})
	if err != nil || len(deleted) != 0 {
		t.Errorf("deleting again: got %v, %v; want nothing, nil", deleted, err)
	}
	if got := srv.Updates(); got != before {
		t.Errorf("got %d updates for nothing to delete, want none", got-before)
	}
}

// SetRecords follows libdns' first example: the A set is replaced, the TXT
// at the same name stays.
func TestSetRecordsReplacesSets(t *testing.T) {
	srv, p := start(t)
	srv.Add(t,
		"box.test. 3600 IN A 192.0.2.1",
		"box.test. 3600 IN A 192.0.2.2",
		`box.test. 3600 IN TXT "hello world"`,
	)
	got, err := p.SetRecords(context.Background(), testZone, []libdns.Record{
		libdns.Address{Name: "@", TTL: time.Hour, IP: netip.MustParseAddr("192.0.2.3")},
	})
	if err != nil {
		t.Fatalf("SetRecords: %v", err)
	}
	want := []libdns.RR{
		{Name: "@", TTL: time.Hour, Type: "A", Data: "192.0.2.3"},
		{Name: "@", TTL: time.Hour, Type: "TXT", Data: "hello world"},
	}
	if diff := cmp.Diff(want[:1], rrs(got)); diff != "" {
		t.Errorf("SetRecords result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, zoneRRs(t, p)); diff != "" {
		t.Errorf("zone (-want +got):\n%s", diff)
	}
}

func TestDeleteWithEmptyFieldsMatchesAny(t *testing.T) {
	tests := []struct {
		name string
		del  libdns.RR
		left []string
	}{
		{"any data of a type", libdns.RR{Name: "a", Type: "A"}, []string{"a AAAA", "b A"}},
		{"any type at a name", libdns.RR{Name: "a"}, []string{"b A"}},
		{"TTL must match when given", libdns.RR{Name: "a", Type: "A", TTL: time.Second}, []string{"a A", "a A", "a AAAA", "b A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, p := start(t)
			srv.Add(t, "a.box.test. 60 IN A 192.0.2.1", "a.box.test. 60 IN A 192.0.2.2",
				"a.box.test. 60 IN AAAA 2001:db8::1", "b.box.test. 60 IN A 192.0.2.9")
			if _, err := p.DeleteRecords(context.Background(), testZone, []libdns.Record{tt.del}); err != nil {
				t.Fatalf("DeleteRecords: %v", err)
			}
			var left []string
			for _, rr := range zoneRRs(t, p) {
				left = append(left, rr.Name+" "+rr.Type)
			}
			if diff := cmp.Diff(tt.left, left); diff != "" {
				t.Errorf("records left (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLongTXTRoundTrips(t *testing.T) {
	srv, p := start(t)
	long := strings.Repeat("0123456789", 60)
	if _, err := p.AppendRecords(context.Background(), testZone, []libdns.Record{libdns.TXT{Name: "long", Text: long}}); err != nil {
		t.Fatalf("AppendRecords: %v", err)
	}
	txt := srv.Lookup("long.box.test.", dns.TypeTXT)
	if len(txt) != 1 || strings.Join(txt[0].(*dns.TXT).Txt, "") != long || len(txt[0].(*dns.TXT).Txt) != 3 {
		t.Fatalf("got %v, want one TXT of three strings", txt)
	}
	got := zoneRRs(t, p)
	if len(got) != 1 || got[0].Data != long {
		t.Errorf("got %v, want the 600-byte text back", got)
	}
}

func TestConcurrentAppends(t *testing.T) {
	_, p := start(t)
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = p.AppendRecords(context.Background(), testZone, []libdns.Record{
				libdns.TXT{Name: "multi", Text: fmt.Sprintf("v%d", i)},
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("append %d: %v", i, err)
		}
	}
	if got := len(zoneRRs(t, p)); got != 10 {
		t.Errorf("got %d records, want 10", got)
	}
}

func TestServerRefuses(t *testing.T) {
	srv, _ := start(t)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"wrong secret", Config{Server: srv.Addr, KeyName: testKey, Secret: "b3RoZXI="}},
		{"unknown key", Config{Server: srv.Addr, KeyName: "other.", Secret: testSecret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.AppendRecords(context.Background(), testZone, []libdns.Record{libdns.TXT{Name: "x", Text: "y"}})
			if !errors.Is(err, ErrRejected) {
				t.Errorf("AppendRecords: got %v, want %v", err, ErrRejected)
			}
			if _, err := p.GetRecords(context.Background(), testZone); !errors.Is(err, ErrRejected) {
				t.Errorf("GetRecords: got %v, want %v", err, ErrRejected)
			}
			if srv.Updates() != 0 {
				t.Errorf("got %d updates applied, want 0", srv.Updates())
			}
		})
	}
	t.Run("zone not served", func(t *testing.T) {
		_, p := start(t)
		_, err := p.AppendRecords(context.Background(), "other.test.", []libdns.Record{libdns.TXT{Name: "x", Text: "y"}})
		if !errors.Is(err, ErrRejected) {
			t.Errorf("got %v, want %v", err, ErrRejected)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		_, p := start(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := p.AppendRecords(ctx, testZone, []libdns.Record{libdns.TXT{Name: "x", Text: "y"}}); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want %v", err, context.Canceled)
		}
	})
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"no server", Config{KeyName: "k.", Secret: testSecret}, "server"},
		{"no key name", Config{Server: "127.0.0.1:53", Secret: testSecret}, "key_name"},
		{"secret not base64", Config{Server: "127.0.0.1:53", KeyName: "k.", Secret: "%%%"}, "secret"},
		{"empty secret", Config{Server: "127.0.0.1:53", KeyName: "k."}, "secret"},
		{"unknown algorithm", Config{Server: "127.0.0.1:53", KeyName: "k.", Secret: testSecret, Algorithm: "hmac-md5"}, "algorithm"},
		{"negative timeout", Config{Server: "127.0.0.1:53", KeyName: "k.", Secret: testSecret, Timeout: -1}, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if !errors.Is(err, ErrInvalidConfig) || !strings.HasPrefix(err.Error(), tt.field) {
				t.Errorf("got %v, want %v naming %s", err, ErrInvalidConfig, tt.field)
			}
		})
	}
	p, err := New(Config{Server: "ns.example", KeyName: "K", Secret: testSecret, Algorithm: "HMAC-SHA512"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if p.server != "ns.example:53" || p.keyName != "k." || p.alg != dns.HmacSHA512 {
		t.Errorf("got server %q key %q alg %q, want ns.example:53, k., %s", p.server, p.keyName, p.alg, dns.HmacSHA512)
	}
}

func TestInvalidRecords(t *testing.T) {
	srv, p := start(t)
	tests := []struct {
		name  string
		recs  []libdns.Record
		field string
	}{
		{"outside the zone", []libdns.Record{libdns.TXT{Name: "ok", Text: "x"}, libdns.RR{Name: "example.com.", Type: "A", Data: "192.0.2.1"}}, "recs[1]: name"},
		{"no name", []libdns.Record{libdns.RR{Type: "A", Data: "192.0.2.1"}}, "recs[0]: name"},
		{"SOA", []libdns.Record{libdns.RR{Name: "@", Type: "SOA", Data: "x"}}, "recs[0]: type"},
		{"unknown type", []libdns.Record{libdns.RR{Name: "a", Type: "BOGUS", Data: "x"}}, "recs[0]: type"},
		{"bad address", []libdns.Record{libdns.RR{Name: "a", Type: "A", Data: "not-an-ip"}}, "recs[0]: data"},
		{"line break", []libdns.Record{libdns.RR{Name: "a", Type: "A", Data: "192.0.2.1\nb.box.test. 60 IN A 192.0.2.2"}}, "recs[0]: data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.AppendRecords(context.Background(), testZone, tt.recs)
			if !errors.Is(err, ErrInvalidRecord) || !strings.HasPrefix(err.Error(), tt.field) {
				t.Errorf("got %v, want %v naming %s", err, ErrInvalidRecord, tt.field)
			}
		})
	}
	if srv.Updates() != 0 {
		t.Errorf("got %d updates, want 0", srv.Updates())
	}
}

// The contract every Hearth DNS provider passes, against the real server.
func TestProviderContract(t *testing.T) {
	_, p := start(t)
	providertest.Run(t, p, testZone)
}
