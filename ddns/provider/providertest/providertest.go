// Package providertest holds the contract test that every Hearth DNS
// provider (ddns/provider/...) must pass. It is imported only by tests: each
// provider package calls Run against its fake (or, for RFC 2136, a real
// in-process DNS server), so that all providers behave the same to the DNS
// updater and to certmagic's DNS-01 solver.
package providertest

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/libdns/libdns"
)

// Provider is the part of libdns that Hearth uses: certmagic needs Append
// and Delete, the DNS updater needs Get and Set.
type Provider interface {
	libdns.RecordGetter
	libdns.RecordAppender
	libdns.RecordSetter
	libdns.RecordDeleter
}

// Names used by the contract, relative to the zone under test. A provider
// that can only write some names (DuckDNS) must accept these two.
const (
	// AddressName is where the contract sets A records: the zone apex.
	AddressName = "@"
	// ChallengeName is where the contract appends and deletes a TXT record,
	// the way certmagic does for an ACME DNS-01 challenge.
	ChallengeName = "_acme-challenge"
)

// Values written by the contract.
var (
	firstIP  = netip.MustParseAddr("192.0.2.10")
	secondIP = netip.MustParseAddr("192.0.2.11")
)

const challengeText = "Xk8y-3vZr_QpLm2NcW9bA7sTuV0eHdFjG1iKoYqE5wR"

// rec is what the contract compares: TTLs are left out on purpose, since
// providers clamp them (deSEC: at least 3600 s) or fix them (DuckDNS: 60 s).
type rec struct {
	Name, Type, Data string
}

// Run runs the contract sequence against p in zone (with or without the
// trailing dot; Run passes it with one, as certmagic does):
//
//  1. append a TXT record at _acme-challenge and get it back as a libdns.TXT;
//  2. get: the TXT is there;
//  3. set the apex A record, then set it again to another address: only the
//     second address remains;
//  4. delete the TXT record with the value Append returned (as certmagic
//     does): exactly that record is reported deleted;
//  5. get: the TXT is gone, the A record is still there;
//  6. deleting the absent TXT again is silent and reports nothing;
//  7. concurrent gets are safe (run the test with -race);
//  8. delete the A record, leaving the zone as it was.
//
// The zone must start without an A record at its apex and without a TXT
// record at _acme-challenge; other records are left alone and ignored.
func Run(t *testing.T, p Provider, zone string) {
	t.Helper()
	zone = strings.TrimSuffix(zone, ".") + "."
	ctx := t.Context()

	if got := relevant(t, p, zone); len(got) != 0 {
		t.Fatalf("zone %s before the contract: got records %v, want none at %q (A) and %q (TXT)", zone, got, AddressName, ChallengeName)
	}

	var appended libdns.Record
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"append TXT", func(t *testing.T) {
			out, err := p.AppendRecords(ctx, zone, []libdns.Record{
				libdns.TXT{Name: ChallengeName, TTL: 120 * time.Second, Text: challengeText},
			})
			if err != nil {
				t.Fatalf("AppendRecords: %v", err)
			}
			if len(out) != 1 {
				t.Fatalf("AppendRecords returned %d records, want 1: %v", len(out), out)
			}
			txt, ok := out[0].(libdns.TXT)
			if !ok {
				t.Fatalf("AppendRecords returned a %T, want libdns.TXT", out[0])
			}
			if diff := cmp.Diff(rec{ChallengeName, "TXT", challengeText}, project(txt)); diff != "" {
				t.Errorf("AppendRecords result (-want +got):\n%s", diff)
			}
			appended = out[0]
		}},
		{"get shows TXT", func(t *testing.T) {
			want := []rec{{ChallengeName, "TXT", challengeText}}
			if diff := cmp.Diff(want, relevant(t, p, zone)); diff != "" {
				t.Errorf("GetRecords after append (-want +got):\n%s", diff)
			}
		}},
		{"set A", func(t *testing.T) {
			for _, ip := range []netip.Addr{firstIP, secondIP} {
				out, err := p.SetRecords(ctx, zone, []libdns.Record{
					libdns.Address{Name: AddressName, TTL: 300 * time.Second, IP: ip},
				})
				if err != nil {
					t.Fatalf("SetRecords(A %s): %v", ip, err)
				}
				if len(out) != 1 {
					t.Fatalf("SetRecords(A %s) returned %d records, want 1: %v", ip, len(out), out)
				}
				if _, ok := out[0].(libdns.Address); !ok {
					t.Fatalf("SetRecords returned a %T, want libdns.Address", out[0])
				}
			}
			want := []rec{{AddressName, "A", secondIP.String()}, {ChallengeName, "TXT", challengeText}}
			if diff := cmp.Diff(want, relevant(t, p, zone)); diff != "" {
				t.Errorf("GetRecords after setting A twice (-want +got):\n%s", diff)
			}
		}},
		{"delete TXT", func(t *testing.T) {
			if appended == nil {
				t.Fatal("no record from the append step")
			}
			out, err := p.DeleteRecords(ctx, zone, []libdns.Record{appended})
			if err != nil {
				t.Fatalf("DeleteRecords: %v", err)
			}
			got := make([]rec, 0, len(out))
			for _, r := range out {
				got = append(got, project(r))
			}
			if diff := cmp.Diff([]rec{{ChallengeName, "TXT", challengeText}}, got); diff != "" {
				t.Errorf("DeleteRecords result (-want +got):\n%s", diff)
			}
		}},
		{"get after delete", func(t *testing.T) {
			want := []rec{{AddressName, "A", secondIP.String()}}
			if diff := cmp.Diff(want, relevant(t, p, zone)); diff != "" {
				t.Errorf("GetRecords after delete (-want +got):\n%s", diff)
			}
		}},
		{"delete absent is silent", func(t *testing.T) {
			out, err := p.DeleteRecords(ctx, zone, []libdns.Record{appended})
			if err != nil {
				t.Fatalf("DeleteRecords of an absent record: %v", err)
			}
			if len(out) != 0 {
				t.Errorf("DeleteRecords of an absent record: got %v, want nothing", out)
			}
		}},
		{"concurrent get", func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = p.GetRecords(ctx, zone)
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("GetRecords %d: %v", i, err)
				}
			}
		}},
		{"delete A", func(t *testing.T) {
			out, err := p.DeleteRecords(ctx, zone, []libdns.Record{libdns.Address{Name: AddressName, IP: secondIP}})
			if err != nil {
				t.Fatalf("DeleteRecords(A): %v", err)
			}
			if len(out) != 1 {
				t.Errorf("DeleteRecords(A) returned %d records, want 1: %v", len(out), out)
			}
			if got := relevant(t, p, zone); len(got) != 0 {
				t.Errorf("GetRecords at the end: got %v, want none", got)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			return
		}
	}
}

// relevant returns the records the contract owns (the apex A and the
// challenge TXT), sorted.
func relevant(t *testing.T, p Provider, zone string) []rec {
	t.Helper()
	all, err := p.GetRecords(t.Context(), zone)
	if err != nil {
		t.Fatalf("GetRecords: %v", err)
	}
	var out []rec
	for _, r := range all {
		pr := project(r)
		if (pr.Name == AddressName && pr.Type == "A") || (pr.Name == ChallengeName && pr.Type == "TXT") {
			out = append(out, pr)
		}
	}
	slices.SortFunc(out, func(a, b rec) int { return strings.Compare(a.Name+" "+a.Type+" "+a.Data, b.Name+" "+b.Type+" "+b.Data) })
	return out
}

func project(r libdns.Record) rec {
	rr := r.RR()
	return rec{Name: rr.Name, Type: rr.Type, Data: rr.Data}
}
