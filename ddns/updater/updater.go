package updater

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// Errors; check them with errors.Is.
var (
	// ErrInvalidConfig reports a Config field that cannot be used; the
	// message names it.
	ErrInvalidConfig = errors.New("invalid updater config")
	// ErrNoAddress reports a pass with no public address to publish.
	ErrNoAddress = errors.New("no public address")
	// ErrNotVerified reports a change the authoritative servers did not
	// show in time.
	ErrNotVerified = errors.New("change not seen by the authoritative servers")
)

// MaxTTL is the longest TTL the updater writes: a changed address must
// reach resolvers quickly.
const MaxTTL = 300 * time.Second

// Provider is the part of a libdns provider the updater needs.
type Provider interface {
	libdns.RecordGetter
	libdns.RecordSetter
}

// Config configures an Updater.
type Config struct {
	// Provider changes the zone.
	Provider Provider
	// Zone is the zone the provider manages, such as "example.com".
	Zone string
	// Name is the name to keep, relative to Zone ("home", or "@" for the
	// apex).
	Name string
	// TTL of the records written; 0 means MaxTTL, more than MaxTTL is
	// refused. Providers may raise it (deSEC's minimum is 3600 s).
	TTL time.Duration
	// Resolver is the recursive resolver (host:port) asked for the zone's
	// NS records and their addresses; empty means the first nameserver of
	// ResolvConf.
	Resolver string
	// ResolvConf is read when Resolver is empty; empty means
	// /etc/resolv.conf.
	ResolvConf string
	// Authorities, if set, are the authoritative servers (host:port) asked
	// to verify a change, instead of those the NS lookup finds.
	Authorities []string
	// AuthorityPort is the port of the servers the NS lookup finds; empty
	// means 53.
	AuthorityPort string
	// VerifyTimeout bounds the wait for the authorities to show a change;
	// 0 means 2 minutes.
	VerifyTimeout time.Duration
	// Recheck is how long a value the updater set is trusted before it
	// reads the zone again to compare; 0 means 1 hour.
	Recheck time.Duration
	// Interval is how often Run looks at the public address; 0 means 5
	// minutes.
	Interval time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failure, doubling
	// from the first to the second, with jitter; 0 means 30 s and 30 min.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives a line per change and per failure; nil discards.
	Logger *slog.Logger
}

// Status is what the updater did last, for the owner.
type Status struct {
	// Name is the fully qualified name kept.
	Name string `json:"name"`
	// IPv4 and IPv6 are the addresses the name was last set to (or found
	// with); zero when unknown.
	IPv4 netip.Addr `json:"ipv4,omitzero"`
	IPv6 netip.Addr `json:"ipv6,omitzero"`
	// LastCheck is when the updater last compared; LastUpdate when it
	// last changed the records.
	LastCheck  time.Time `json:"last_check,omitzero"`
	LastUpdate time.Time `json:"last_update,omitzero"`
	// Verified is true when the authoritative servers showed the last
	// change (or the records needed none).
	Verified bool `json:"verified"`
	// LastError is the last pass's error; empty after a good pass.
	LastError string `json:"last_error,omitempty"`
	// Failures counts passes failed in a row.
	Failures int `json:"failures,omitempty"`
	// NextTry is when Run tries again.
	NextTry time.Time `json:"next_try,omitzero"`
	// Advice says what the owner can do, in plain words; empty when
	// nothing is wrong.
	Advice string `json:"advice,omitempty"`
}

// Updater keeps one name's address records. Its methods are safe for
// concurrent use; one pass runs at a time.
type Updater struct {
	cfg  Config
	fqdn string
	log  *slog.Logger
	now  func() time.Time
	kick chan struct{}

	pass sync.Mutex // held by a whole pass (Update): one at a time

	mu          sync.Mutex // guards the fields below
	last        map[string]netip.Addr
	lastChecked time.Time
	status      Status
}

// New checks cfg and returns an Updater. It contacts nothing.
func New(cfg Config) (*Updater, error) {
	if cfg.Provider == nil {
		return nil, fmt.Errorf("provider: required: %w", ErrInvalidConfig)
	}
	zone := dns.CanonicalName(cfg.Zone)
	if cfg.Zone == "" || zone == "." {
		return nil, fmt.Errorf("zone: required: %w", ErrInvalidConfig)
	}
	if _, ok := dns.IsDomainName(zone); !ok {
		return nil, fmt.Errorf("zone %q: not a domain name: %w", cfg.Zone, ErrInvalidConfig)
	}
	name := strings.TrimSpace(cfg.Name)
	if name == "" {
		return nil, fmt.Errorf("name: required (\"@\" for the zone itself): %w", ErrInvalidConfig)
	}
	fqdn := dns.CanonicalName(libdns.AbsoluteName(name, zone))
	if _, ok := dns.IsDomainName(fqdn); !ok || !dns.IsSubDomain(zone, fqdn) {
		return nil, fmt.Errorf("name %q: not a name in zone %s: %w", cfg.Name, zone, ErrInvalidConfig)
	}
	switch {
	case cfg.TTL < 0 || (cfg.TTL > 0 && cfg.TTL < time.Second):
		return nil, fmt.Errorf("ttl %s: want 1s to %s: %w", cfg.TTL, MaxTTL, ErrInvalidConfig)
	case cfg.TTL > MaxTTL:
		return nil, fmt.Errorf("ttl %s: longer than %s, a changed address would linger: %w", cfg.TTL, MaxTTL, ErrInvalidConfig)
	}
	for i, a := range cfg.Authorities {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("authorities[%d] %q: want host:port: %w", i, a, ErrInvalidConfig)
		}
	}
	if cfg.Resolver != "" {
		if _, _, err := net.SplitHostPort(cfg.Resolver); err != nil {
			return nil, fmt.Errorf("resolver %q: want host:port: %w", cfg.Resolver, ErrInvalidConfig)
		}
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"verify_timeout", cfg.VerifyTimeout}, {"recheck", cfg.Recheck}, {"interval", cfg.Interval}, {"min_backoff", cfg.MinBackoff}, {"max_backoff", cfg.MaxBackoff}} {
		if d.v < 0 {
			return nil, fmt.Errorf("%s %s: negative: %w", d.field, d.v, ErrInvalidConfig)
		}
	}
	cfg.Zone, cfg.Name = zone, name
	cfg.TTL = orDefault(cfg.TTL, MaxTTL)
	cfg.VerifyTimeout = orDefault(cfg.VerifyTimeout, 2*time.Minute)
	cfg.Recheck = orDefault(cfg.Recheck, time.Hour)
	cfg.Interval = orDefault(cfg.Interval, 5*time.Minute)
	cfg.MinBackoff = orDefault(cfg.MinBackoff, 30*time.Second)
	cfg.MaxBackoff = orDefault(cfg.MaxBackoff, 30*time.Minute)
	if cfg.MaxBackoff < cfg.MinBackoff {
		return nil, fmt.Errorf("max_backoff %s: less than min_backoff %s: %w", cfg.MaxBackoff, cfg.MinBackoff, ErrInvalidConfig)
	}
	if cfg.AuthorityPort == "" {
		cfg.AuthorityPort = "53"
	}
	if cfg.ResolvConf == "" {
		cfg.ResolvConf = "/etc/resolv.conf"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Updater{
		cfg:    cfg,
		fqdn:   fqdn,
		log:    log.With("component", "ddns-updater", "name", fqdn),
		now:    time.Now,
		kick:   make(chan struct{}, 1),
		last:   map[string]netip.Addr{},
		status: Status{Name: fqdn},
	}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Status returns what the updater did last.
func (u *Updater) Status() Status {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.status
}

// Addresses are the public addresses to publish; a zero one is left alone
// in the zone.
type Addresses struct {
	IPv4, IPv6 netip.Addr
}

// Update makes the name's A and AAAA records the given addresses, if they
// differ, and verifies the change. It remembers what it set: an address
// set less than Recheck ago sends nothing at all; otherwise the zone is
// read and compared first. The outcome is recorded in Status.
func (u *Updater) Update(ctx context.Context, addrs Addresses) error {
	u.pass.Lock()
	defer u.pass.Unlock()
	changed, err := u.update(ctx, addrs)
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.now()
	u.status.LastCheck = now
	if addrs.IPv4.IsValid() {
		u.status.IPv4 = addrs.IPv4
	}
	if addrs.IPv6.IsValid() {
		u.status.IPv6 = addrs.IPv6
	}
	if changed {
		u.status.LastUpdate = now
	}
	if err != nil {
		u.status.LastError = err.Error()
		u.status.Verified = false
		u.status.Failures++
		return err
	}
	u.status.LastError = ""
	u.status.Verified = true
	u.status.Failures = 0
	return nil
}

// update is one pass; changed reports whether the provider was asked to
// change the records.
func (u *Updater) update(ctx context.Context, addrs Addresses) (changed bool, err error) {
	want := map[string]netip.Addr{}
	if a := addrs.IPv4.Unmap(); a.IsValid() {
		if !a.Is4() {
			return false, fmt.Errorf("ipv4 %s: not an IPv4 address: %w", a, ErrInvalidConfig)
		}
		want["A"] = a
	}
	if a := addrs.IPv6; a.IsValid() {
		if !a.Is6() || a.Is4In6() {
			return false, fmt.Errorf("ipv6 %s: not an IPv6 address: %w", a, ErrInvalidConfig)
		}
		want["AAAA"] = a
	}
	if len(want) == 0 {
		return false, ErrNoAddress
	}
	u.mu.Lock()
	fresh := u.now().Sub(u.lastChecked) < u.cfg.Recheck
	same := true
	for typ, a := range want {
		if u.last[typ] != a {
			same = false
		}
	}
	u.mu.Unlock()
	if fresh && same {
		return false, nil
	}

	recs, err := u.cfg.Provider.GetRecords(ctx, u.cfg.Zone)
	if err != nil {
		u.forget()
		return false, fmt.Errorf("read zone %s: %w", u.cfg.Zone, err)
	}
	current := map[string][]netip.Addr{}
	for _, r := range recs {
		rr := r.RR()
		if rr.Type != "A" && rr.Type != "AAAA" {
			continue
		}
		if dns.CanonicalName(libdns.AbsoluteName(rr.Name, u.cfg.Zone)) != u.fqdn {
			continue
		}
		if a, err := netip.ParseAddr(rr.Data); err == nil {
			current[rr.Type] = append(current[rr.Type], a.Unmap())
		}
	}
	var set []libdns.Record
	for _, typ := range []string{"A", "AAAA"} {
		a, ok := want[typ]
		if !ok {
			continue
		}
		if cur := current[typ]; len(cur) == 1 && cur[0] == a {
			continue
		}
		set = append(set, libdns.Address{Name: libdns.RelativeName(u.fqdn, u.cfg.Zone), TTL: u.cfg.TTL, IP: a})
	}
	if len(set) == 0 {
		u.remember(want)
		return false, nil
	}
	if _, err := u.cfg.Provider.SetRecords(ctx, u.cfg.Zone, set); err != nil {
		u.forget()
		return false, fmt.Errorf("set %s: %w", u.fqdn, err)
	}
	u.log.Info("records changed", "records", len(set), "ipv4", addrs.IPv4.String(), "ipv6", addrs.IPv6.String())
	if err := u.verify(ctx, want); err != nil {
		u.forget() // compare with the zone again next time
		return true, err
	}
	u.remember(want)
	return true, nil
}

func (u *Updater) remember(want map[string]netip.Addr) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.last = want
	u.lastChecked = u.now()
}

func (u *Updater) forget() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.last = map[string]netip.Addr{}
	u.lastChecked = time.Time{}
}
