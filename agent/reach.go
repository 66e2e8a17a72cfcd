package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/ddns/discover"
	"github.com/hearthbox/hearth/ddns/mdns"
	"github.com/hearthbox/hearth/ddns/provider/cloudflare"
	"github.com/hearthbox/hearth/ddns/provider/desec"
	"github.com/hearthbox/hearth/ddns/provider/duckdns"
	"github.com/hearthbox/hearth/ddns/provider/rfc2136"
	"github.com/hearthbox/hearth/ddns/reach"
	"github.com/hearthbox/hearth/ddns/updater"
	"github.com/hearthbox/hearth/proxy"
)

// MDNS is what the agent needs of the LAN responder.
type MDNS interface {
	SetApps(apps []string) error
	Status() mdns.Status
}

var _ MDNS = (*mdns.Responder)(nil)

// DNSProvider is a libdns provider as the DDNS settings make it; the
// updater uses Get and Set, the proxy's DNS-01 solver Append and Delete.
type DNSProvider interface {
	libdns.RecordGetter
	libdns.RecordSetter
	libdns.RecordAppender
	libdns.RecordDeleter
}

// NewDNSProvider builds the provider named in the DDNS settings from its
// credentials. Missing credentials are named in the error.
func NewDNSProvider(name string, creds map[string]string) (DNSProvider, error) {
	need := func(keys ...string) error {
		for _, k := range keys {
			if strings.TrimSpace(creds[k]) == "" {
				return fmt.Errorf("credentials.%s: required for %s: %w", k, name, api.ErrInvalid)
			}
		}
		return nil
	}
	switch name {
	case api.ProviderRFC2136:
		if err := need("server", "key_name", "secret"); err != nil {
			return nil, err
		}
		p, err := rfc2136.New(rfc2136.Config{Server: creds["server"], KeyName: creds["key_name"], Secret: creds["secret"], Algorithm: creds["algorithm"]})
		if err != nil {
			return nil, fmt.Errorf("credentials: %v: %w", err, api.ErrInvalid)
		}
		return p, nil
	case api.ProviderDeSEC:
		if err := need("token"); err != nil {
			return nil, err
		}
		return &desec.Provider{Token: creds["token"]}, nil
	case api.ProviderDuckDNS:
		if err := need("token"); err != nil {
			return nil, err
		}
		return &duckdns.Provider{Token: creds["token"], Domain: creds["domain"]}, nil
	case api.ProviderCloudflare:
		if err := need("api_token"); err != nil {
			return nil, err
		}
		return &cloudflare.Provider{APIToken: creds["api_token"]}, nil
	}
	return nil, fmt.Errorf("provider %q: want rfc2136, desec, duckdns or cloudflare: %w", name, api.ErrInvalid)
}

// ReachConfig wires a Reach.
type ReachConfig struct {
	// Store keeps the DDNS settings. Required.
	Store *state.Store
	// MDNS is the LAN responder; nil when it is off (MDNSOff says why).
	MDNS    MDNS
	MDNSOff string
	// BoxName is the name the responder was given, to tell the owner
	// when a conflict on the LAN made it take another.
	BoxName string
	// Discoverer finds the public addresses. Required.
	Discoverer updater.Discoverer
	// Resolver (host:port) is asked for NS records when verifying updates
	// and for the public name in the reachability check; empty means
	// /etc/resolv.conf's first server.
	Resolver string
	// AuthorityPort is the port of the zone's authoritative servers; empty
	// means 53 (tests only).
	AuthorityPort string
	// Interval is how often the updater looks at the address; 0 means 5
	// minutes. CheckInterval is how often the reachability check runs; 0
	// means 15 minutes.
	Interval, CheckInterval time.Duration
	// NewProvider builds a provider from the settings; nil means
	// NewDNSProvider.
	NewProvider func(name string, creds map[string]string) (DNSProvider, error)
	Logger      *slog.Logger
}

// Reach keeps the box reachable: it runs the DDNS updater with the stored
// settings, the reachability check, and reports them with the LAN
// responder's status. Its methods are safe for concurrent use.
type Reach struct {
	cfg  ReachConfig
	log  *slog.Logger
	wake chan struct{}

	mu    sync.Mutex // guards the fields below
	up    *updater.Updater
	found discover.Result
	check *api.ReachCheck
	errs  []string // the last check's problems
}

// NewReach checks cfg and returns a Reach; Run starts it.
func NewReach(cfg ReachConfig) (*Reach, error) {
	if cfg.Store == nil || cfg.Discoverer == nil {
		return nil, errors.New("reach config: Store and Discoverer are required")
	}
	if cfg.NewProvider == nil {
		cfg.NewProvider = NewDNSProvider
	}
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = 15 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Reach{cfg: cfg, log: cfg.Logger.With("component", "reach"), wake: make(chan struct{}, 1)}, nil
}

// recorder remembers the last discovery for the status page.
type recorder struct {
	r *Reach
	d updater.Discoverer
}

func (rec recorder) Discover(ctx context.Context) (discover.Result, error) {
	res, err := rec.d.Discover(ctx)
	if err == nil {
		rec.r.mu.Lock()
		rec.r.found = res
		rec.r.mu.Unlock()
	}
	return res, err
}

// Run runs the updater with the stored settings until ctx ends, starting
// it again whenever SetDDNS changes them.
func (r *Reach) Run(ctx context.Context) error {
	check := time.NewTicker(r.cfg.CheckInterval)
	defer check.Stop()
	for {
		runCtx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		d, err := r.cfg.Store.DDNS()
		if err != nil {
			cancel()
			return fmt.Errorf("reach: %w", err)
		}
		up, err := r.newUpdater(d)
		if err != nil {
			r.log.Warn("ddns settings unusable", "err", err)
		}
		r.mu.Lock()
		r.up = up
		r.mu.Unlock()
		if up != nil {
			wg.Go(func() { _ = up.Run(runCtx, recorder{r: r, d: r.cfg.Discoverer}) })
		}
		stop := false
	wait:
		for {
			select {
			case <-ctx.Done():
				stop = true
				break wait
			case <-r.wake:
				break wait
			case <-check.C:
				if up != nil {
					r.runCheck(runCtx, d, up.Status())
				}
			}
		}
		cancel()
		wg.Wait()
		if stop {
			return nil
		}
	}
}

// newUpdater builds the updater of enabled settings; nil when disabled.
func (r *Reach) newUpdater(d state.DDNS) (*updater.Updater, error) {
	if !d.Enabled {
		return nil, nil
	}
	p, err := r.cfg.NewProvider(d.Provider, d.Credentials)
	if err != nil {
		return nil, err
	}
	return updater.New(updater.Config{
		Provider: p, Zone: d.Zone, Name: d.Name, TTL: time.Duration(d.TTL) * time.Second,
		Resolver: r.cfg.Resolver, AuthorityPort: r.cfg.AuthorityPort, Interval: r.cfg.Interval, Logger: r.cfg.Logger,
	})
}

// runCheck checks the public name against the updater's addresses.
func (r *Reach) runCheck(ctx context.Context, d state.DDNS, st updater.Status) {
	c, err := reach.New(reach.Config{Resolver: r.cfg.Resolver, CheckerURL: d.CheckerURL})
	if err != nil {
		return
	}
	res, err := c.Check(ctx, st.Name, st.IPv4, st.IPv6)
	if err != nil {
		return
	}
	rc := &api.ReachCheck{Checked: time.Now(), Resolves: res.Resolves, Port443: res.Port443}
	for _, a := range res.Resolved {
		rc.Resolved = append(rc.Resolved, a.String())
	}
	r.mu.Lock()
	r.check, r.errs = rc, res.Problems
	r.mu.Unlock()
}

// DDNSStatus implements api.ReachService for Reach.
func (r *Reach) DDNSStatus(ctx context.Context) (api.DDNSStatus, error) {
	d, err := r.cfg.Store.DDNS()
	if err != nil {
		return api.DDNSStatus{}, err
	}
	out := api.DDNSStatus{Settings: settingsView(d)}
	if r.cfg.MDNS != nil {
		ms := r.cfg.MDNS.Status()
		out.MDNS = api.MDNSStatus{State: ms.State, Name: ms.Name, Interfaces: ms.Interfaces, Detail: ms.Detail}
	} else {
		out.MDNS = api.MDNSStatus{State: "off", Detail: r.cfg.MDNSOff}
	}
	r.mu.Lock()
	up, found, check, problems := r.up, r.found, r.check, slices.Clone(r.errs)
	r.mu.Unlock()
	out.CGNAT = found.CGNAT
	if found.Advice != "" {
		out.Advice = append(out.Advice, found.Advice)
	}
	if up != nil {
		st := up.Status()
		out.Update = api.DDNSUpdate{FQDN: st.Name, IPv4: addrText(st.IPv4), IPv6: addrText(st.IPv6), LastCheck: st.LastCheck,
			LastUpdate: st.LastUpdate, Verified: st.Verified, LastError: st.LastError, Failures: st.Failures, NextTry: st.NextTry}
		if st.LastError != "" {
			out.Advice = append(out.Advice, "The last update failed; check the provider settings (hearth ddns set) and the error above. Hearth tries again by itself.")
		}
		out.Reach = check
		out.Advice = append(out.Advice, problems...)
	} else if d.Enabled {
		out.Advice = append(out.Advice, "The DDNS settings cannot be used; set them again with hearth ddns set.")
	}
	if ms := out.MDNS; ms.State == mdns.StateRunning && r.cfg.BoxName != "" && ms.Name != r.cfg.BoxName {
		out.Advice = append(out.Advice, fmt.Sprintf("Another device on your network is called %s.local, so the box answers at %s.local; rename one of them.", r.cfg.BoxName, ms.Name))
	}
	return out, nil
}

// SetDDNS implements api.ReachService for Reach.
func (r *Reach) SetDDNS(ctx context.Context, req api.SetDDNSRequest) (api.DDNSStatus, error) {
	old, err := r.cfg.Store.DDNS()
	if err != nil {
		return api.DDNSStatus{}, err
	}
	creds := req.Credentials
	if len(creds) == 0 && req.Provider == old.Provider {
		creds = old.Credentials
	}
	d := state.DDNS{Enabled: req.Enabled, Provider: req.Provider, Zone: strings.TrimSpace(req.Zone), Name: strings.TrimSpace(req.Name),
		TTL: req.TTL, Credentials: maps.Clone(creds), CheckerURL: req.CheckerURL}
	if d.Name == "" {
		d.Name = "@"
	}
	if d.Provider != "" || d.Enabled {
		if _, err := r.newUpdater(state.DDNS{Enabled: true, Provider: d.Provider, Zone: d.Zone, Name: d.Name, TTL: d.TTL, Credentials: d.Credentials}); err != nil {
			if errors.Is(err, api.ErrInvalid) {
				return api.DDNSStatus{}, err
			}
			return api.DDNSStatus{}, fmt.Errorf("%v: %w", err, api.ErrInvalid)
		}
	}
	if d.CheckerURL != "" {
		if _, err := reach.New(reach.Config{CheckerURL: d.CheckerURL}); err != nil {
			return api.DDNSStatus{}, fmt.Errorf("%v: %w", err, api.ErrInvalid)
		}
	}
	if err := r.cfg.Store.PutDDNS(d); err != nil {
		if errors.Is(err, state.ErrInvalid) {
			return api.DDNSStatus{}, fmt.Errorf("%v: %w", err, api.ErrInvalid)
		}
		return api.DDNSStatus{}, err
	}
	r.log.Info("ddns settings changed", "enabled", d.Enabled, "provider", d.Provider, "zone", d.Zone, "name", d.Name, "actor", api.ActorFrom(ctx))
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return r.DDNSStatus(ctx)
}

func settingsView(d state.DDNS) api.DDNSSettings {
	return api.DDNSSettings{Enabled: d.Enabled, Provider: d.Provider, Zone: d.Zone, Name: d.Name, TTL: d.TTL,
		CredentialKeys: slices.Sorted(maps.Keys(d.Credentials)), CheckerURL: d.CheckerURL}
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// DDNSStatus implements api.ReachService.
func (a *Agent) DDNSStatus(ctx context.Context) (api.DDNSStatus, error) {
	if a.cfg.Reach == nil {
		return api.DDNSStatus{}, fmt.Errorf("reachability is not set up in this hearthd: %w", api.ErrUnavailable)
	}
	return a.cfg.Reach.DDNSStatus(ctx)
}

// SetDDNS implements api.ReachService.
func (a *Agent) SetDDNS(ctx context.Context, req api.SetDDNSRequest) (api.DDNSStatus, error) {
	if a.cfg.Reach == nil {
		return api.DDNSStatus{}, fmt.Errorf("reachability is not set up in this hearthd: %w", api.ErrUnavailable)
	}
	return a.cfg.Reach.SetDDNS(ctx, req)
}

// WithMDNS returns p, telling m every LAN name under <box>.local that p is
// given (apps and their old names), so that mDNS answers exactly the
// names the proxy serves.
func WithMDNS(p Proxy, m MDNS, box string) Proxy {
	return mdnsProxy{Proxy: p, m: m, suffix: "." + box + ".local"}
}

// mdnsLabel is a name the responder takes: one DNS label.
var mdnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

type mdnsProxy struct {
	Proxy
	m      MDNS
	suffix string
}

func (p mdnsProxy) Apply(ctx context.Context, routes []proxy.Route) error {
	var names []string
	add := func(host string) {
		if label, ok := strings.CutSuffix(strings.ToLower(host), p.suffix); ok && mdnsLabel.MatchString(label) {
			names = append(names, label)
		}
	}
	for _, rt := range routes {
		for _, h := range rt.Hosts {
			add(h)
		}
		for _, o := range rt.OldHosts {
			add(o.Host)
		}
	}
	_ = p.m.SetApps(names) // only labels the responder accepts are passed
	return p.Proxy.Apply(ctx, routes)
}
