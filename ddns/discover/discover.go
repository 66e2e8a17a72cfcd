package discover

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// cgnatPrefix is the shared address space of RFC 6598, used by carriers
// between their NAT and their customers' routers.
var cgnatPrefix = netip.MustParsePrefix("100.64.0.0/10")

// Advice given with a Result, in plain words for the owner.
const (
	AdviceCGNAT = "Your internet provider shares one public IPv4 address between several customers " +
		"(carrier-grade NAT), so opening ports on your router cannot make the box reachable from outside. " +
		"What works: certificates over DNS-01 (set a DNS provider), a tunnel service, IPv6 if your provider " +
		"offers it, or asking your provider for a public IPv4 address."
	AdviceDoubleNAT = "Your router is behind another router: its outside address differs from the address " +
		"the internet sees. Port forwarding on your router alone will not reach the box; forward the ports " +
		"on the outer router too, put your router in bridge mode, or use DNS-01 certificates and a tunnel."
)

// Config configures a Discoverer.
type Config struct {
	// Sources are asked in parallel for each family. At least one.
	Sources []Source
	// Router, if set, reports the router's WAN address for carrier-grade
	// NAT detection. Add NewRouterSource(Router) to Sources as well for it
	// to vote.
	Router Router
	// Timeout bounds each source's lookup; 0 means 15 s.
	Timeout time.Duration
	// Logger receives one debug line per failing source; nil discards.
	Logger *slog.Logger
}

// Vote is one source's answer for one family.
type Vote struct {
	Source string     `json:"source"`
	Family Family     `json:"family"`
	Addr   netip.Addr `json:"addr,omitzero"`
	Err    string     `json:"error,omitempty"`
}

// Result is what Discover found.
type Result struct {
	// IPv4 and IPv6 are the public addresses most sources agree on; zero
	// when no source answered or the sources tied.
	IPv4 netip.Addr `json:"ipv4,omitzero"`
	IPv6 netip.Addr `json:"ipv6,omitzero"`
	// Errs4 and Errs6 say why a family has no address (ErrNoAnswer,
	// ErrNoMajority); nil when it has one.
	Err4 error `json:"-"`
	Err6 error `json:"-"`
	// RouterWAN is the router's own outside address, when known.
	RouterWAN netip.Addr `json:"router_wan,omitzero"`
	// CGNAT is true when forwarding ports on the router cannot work: the
	// WAN address is in 100.64.0.0/10, or differs from the public address.
	CGNAT bool `json:"cgnat"`
	// Advice says, in plain words, what the owner can do; empty when
	// nothing stands in the way.
	Advice string `json:"advice,omitempty"`
	// Votes are every source's answers, sorted by family and source.
	Votes []Vote `json:"votes"`
}

// Discoverer asks its sources and combines their answers. It is safe for
// concurrent use.
type Discoverer struct {
	sources []Source
	router  Router
	timeout time.Duration
	log     *slog.Logger
}

// New checks cfg and returns a Discoverer.
func New(cfg Config) (*Discoverer, error) {
	if len(cfg.Sources) == 0 {
		return nil, fmt.Errorf("sources: at least one required: %w", ErrInvalidConfig)
	}
	for i, s := range cfg.Sources {
		if s == nil {
			return nil, fmt.Errorf("sources[%d]: nil: %w", i, ErrInvalidConfig)
		}
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("timeout %s: negative: %w", cfg.Timeout, ErrInvalidConfig)
	}
	d := &Discoverer{sources: slices.Clone(cfg.Sources), router: cfg.Router, timeout: cfg.Timeout, log: cfg.Logger}
	if d.timeout == 0 {
		d.timeout = 15 * time.Second
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.log = d.log.With("component", "discover")
	return d, nil
}

// Discover asks every source for both families at once and returns the
// result. It fails only when ctx ends; a family nobody could answer has
// its error in Result.
func (d *Discoverer) Discover(ctx context.Context) (Result, error) {
	var (
		mu    sync.Mutex
		votes []Vote
		wan   netip.Addr
		wg    sync.WaitGroup
	)
	for _, s := range d.sources {
		for _, fam := range []Family{IPv4, IPv6} {
			wg.Go(func() {
				lctx, cancel := context.WithTimeout(ctx, d.timeout)
				defer cancel()
				a, err := s.Lookup(lctx, fam)
				v := Vote{Source: s.Name(), Family: fam, Addr: a}
				if err != nil {
					v = Vote{Source: s.Name(), Family: fam, Err: err.Error()}
					if !errors.Is(err, ErrUnsupported) {
						d.log.Debug("source failed", "source", s.Name(), "family", fam.String(), "err", err)
					}
				}
				mu.Lock()
				votes = append(votes, v)
				mu.Unlock()
			})
		}
	}
	if d.router != nil {
		wg.Go(func() {
			lctx, cancel := context.WithTimeout(ctx, d.timeout)
			defer cancel()
			if a, err := d.router.ExternalAddr(lctx); err == nil {
				mu.Lock()
				wan = a.Unmap()
				mu.Unlock()
			} else {
				d.log.Debug("router wan address", "err", err)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("discover: %w", err)
	}
	return Combine(votes, wan), nil
}

// Combine decides a Result from votes and the router's WAN address (zero
// if unknown). Private, loopback and shared (100.64.0.0/10) addresses do
// not vote for the public address: they are the router's or the carrier's
// side of a NAT.
func Combine(votes []Vote, wan netip.Addr) Result {
	votes = slices.Clone(votes)
	slices.SortFunc(votes, func(a, b Vote) int {
		return cmp.Or(cmp.Compare(a.Family, b.Family), cmp.Compare(a.Source, b.Source))
	})
	r := Result{Votes: votes, RouterWAN: wan}
	r.IPv4, r.Err4 = elect(votes, IPv4)
	r.IPv6, r.Err6 = elect(votes, IPv6)

	var sharedSeen bool
	for _, v := range votes {
		if v.Addr.IsValid() && v.Family == IPv4 && cgnatPrefix.Contains(v.Addr) {
			sharedSeen = true
		}
	}
	switch {
	case wan.IsValid() && cgnatPrefix.Contains(wan), sharedSeen:
		r.CGNAT, r.Advice = true, AdviceCGNAT
	case wan.IsValid() && r.IPv4.IsValid() && wan != r.IPv4:
		r.CGNAT = true
		if wan.IsPrivate() {
			r.Advice = AdviceDoubleNAT
		} else {
			r.Advice = AdviceCGNAT
		}
	}
	return r
}

// elect returns the address most public votes of family name, or an error
// when none answered or the top two tie.
func elect(votes []Vote, family Family) (netip.Addr, error) {
	counts := map[netip.Addr]int{}
	for _, v := range votes {
		if v.Family == family && v.Addr.IsValid() && public(v.Addr) {
			counts[v.Addr]++
		}
	}
	if len(counts) == 0 {
		return netip.Addr{}, fmt.Errorf("%s: %w", family, ErrNoAnswer)
	}
	var best netip.Addr
	var bestN, second int
	for a, n := range counts {
		switch {
		case n > bestN:
			best, second, bestN = a, bestN, n
		case n > second:
			second = n
		}
	}
	if second == bestN {
		return netip.Addr{}, fmt.Errorf("%s: %d addresses with %d votes each: %w", family, len(counts), bestN, ErrNoMajority)
	}
	return best, nil
}

// public reports whether a may be the box's address on the internet.
func public(a netip.Addr) bool {
	return a.IsGlobalUnicast() && !a.IsPrivate() && !cgnatPrefix.Contains(a)
}
