package mdns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Errors; check them with errors.Is.
var (
	// ErrInvalidConfig reports a Config field or argument that cannot be
	// used; the message names it.
	ErrInvalidConfig = errors.New("invalid mdns config")
	// ErrNoInterface reports a host without a LAN interface to serve.
	ErrNoInterface = errors.New("no LAN interface with an address")
)

// States in Status.
const (
	StateStopped  = "stopped"
	StateProbing  = "probing"
	StateRunning  = "running"
	StateDeferred = "deferred" // avahi-daemon answers instead
	StateFailed   = "failed"
)

// Timings of RFC 6762 §8.
const (
	probeInterval  = 250 * time.Millisecond
	probeCount     = 3
	announceCount  = 2
	announceGap    = time.Second
	lostTieWait    = time.Second
	conflictWindow = 10 * time.Second
	conflictLimit  = 15
	conflictPause  = 5 * time.Second
)

// label is one DNS label as a box or app name: lower-case letters, digits
// and inner hyphens.
var label = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Config configures a Responder.
type Config struct {
	// Name is the box's name: it answers at <Name>.local. One DNS label.
	Name string
	// Interfaces are the LAN interfaces served; empty means every
	// interface that is up, does multicast, has an address and is not a
	// loopback, container or VPN link. They are read when Run starts.
	Interfaces []string
	// Services are advertised through DNS-SD under the box's name; nil
	// means _http._tcp on 80 and _https._tcp on 443.
	Services []Service
	// OnRename is called (on Run's goroutine; it must not block) when a
	// conflict made the responder take another name.
	OnRename func(old, new string)
	// Refresh is how often the interfaces' addresses are read again (an
	// address change is announced); 0 means 30 s.
	Refresh time.Duration
	// AvahiPIDFile is where avahi-daemon writes its pid; empty means
	// DefaultAvahiPIDFile. When avahi runs, Run leaves mDNS to it.
	AvahiPIDFile string
	// Logger receives one line per probe outcome and conflict; nil
	// discards.
	Logger *slog.Logger
}

// Status is what the responder is doing.
type Status struct {
	// State is StateStopped, StateProbing, StateRunning, StateDeferred or
	// StateFailed.
	State string `json:"state"`
	// Name is the name in use (after any rename), without ".local".
	Name string `json:"name"`
	// Interfaces are the interfaces served.
	Interfaces []string `json:"interfaces,omitempty"`
	// Conflicts counts the name conflicts met since Run started.
	Conflicts int `json:"conflicts,omitempty"`
	// Detail says why the responder is deferred or failed.
	Detail string `json:"detail,omitempty"`
}

// Responder answers mDNS for the box. Its methods are safe for concurrent
// use; Run may be called once at a time.
type Responder struct {
	cfg     Config
	log     *slog.Logger
	changed chan struct{} // SetName and SetApps wake Run

	mu     sync.Mutex // guards the fields below
	name   string     // wanted name (the owner's; a rename changes it)
	apps   []string
	status Status
}

// New checks cfg and returns a Responder. It opens nothing.
func New(cfg Config) (*Responder, error) {
	if !label.MatchString(cfg.Name) {
		return nil, fmt.Errorf("name %q: want one DNS label (a-z, 0-9, inner hyphens): %w", cfg.Name, ErrInvalidConfig)
	}
	if cfg.Services == nil {
		cfg.Services = []Service{{Type: "_http._tcp", Port: 80}, {Type: "_https._tcp", Port: 443}}
	}
	for i, s := range cfg.Services {
		if !regexp.MustCompile(`^_[a-z0-9-]{1,15}\._(tcp|udp)$`).MatchString(s.Type) || s.Port == 0 {
			return nil, fmt.Errorf("services[%d]: type %q port %d: want _name._tcp and a port: %w", i, s.Type, s.Port, ErrInvalidConfig)
		}
	}
	if cfg.Refresh < 0 {
		return nil, fmt.Errorf("refresh %s: negative: %w", cfg.Refresh, ErrInvalidConfig)
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = 30 * time.Second
	}
	if cfg.AvahiPIDFile == "" {
		cfg.AvahiPIDFile = DefaultAvahiPIDFile
	}
	cfg.Interfaces = slices.Clone(cfg.Interfaces)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Responder{
		cfg:     cfg,
		log:     log.With("component", "mdns"),
		changed: make(chan struct{}, 1),
		name:    cfg.Name,
		status:  Status{State: StateStopped, Name: cfg.Name},
	}, nil
}

// SetName changes the box's name; a running responder says goodbye for the
// old one and probes the new.
func (r *Responder) SetName(name string) error {
	if !label.MatchString(name) {
		return fmt.Errorf("name %q: want one DNS label (a-z, 0-9, inner hyphens): %w", name, ErrInvalidConfig)
	}
	r.mu.Lock()
	r.name = name
	r.mu.Unlock()
	r.wake()
	return nil
}

// SetApps sets the app names answered at <app>.<name>.local; a running
// responder announces the new ones and says goodbye for the removed ones.
func (r *Responder) SetApps(apps []string) error {
	clean := make([]string, 0, len(apps))
	for i, a := range apps {
		a = strings.ToLower(a)
		if !label.MatchString(a) {
			return fmt.Errorf("apps[%d] %q: want one DNS label: %w", i, apps[i], ErrInvalidConfig)
		}
		clean = append(clean, a)
	}
	slices.Sort(clean)
	clean = slices.Compact(clean)
	r.mu.Lock()
	r.apps = clean
	r.mu.Unlock()
	r.wake()
	return nil
}

// Status returns what the responder is doing.
func (r *Responder) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status
	s.Interfaces = slices.Clone(s.Interfaces)
	return s
}

func (r *Responder) wake() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *Responder) setStatus(f func(*Status)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.status)
}

func (r *Responder) wanted() (string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.name, slices.Clone(r.apps)
}

// Run serves until ctx ends, then says goodbye and returns nil. When
// avahi-daemon runs it returns nil at once with the state StateDeferred.
// The interfaces and sockets belong to the network namespace of the
// calling goroutine's thread, which also reads addresses on refresh.
func (r *Responder) Run(ctx context.Context) error {
	if running, pid := AvahiRunning(r.cfg.AvahiPIDFile); running {
		r.setStatus(func(s *Status) {
			s.State = StateDeferred
			s.Detail = fmt.Sprintf("avahi-daemon (pid %d) answers mDNS on this host; Hearth leaves it to avahi", pid)
		})
		r.log.Info("avahi-daemon runs: not starting the responder", "pid", pid)
		return nil
	}
	ifs, err := lanInterfaces(r.cfg.Interfaces)
	if err == nil && ctx.Err() == nil {
		var socks sockets
		socks, err = open(ctx, ifs)
		if err == nil {
			err = r.serve(ctx, socks, ifs)
		}
	}
	if err != nil {
		r.setStatus(func(s *Status) { s.State, s.Detail = StateFailed, err.Error() })
		return fmt.Errorf("mdns: %w", err)
	}
	return nil
}

// serve is Run's loop over open sockets.
func (r *Responder) serve(ctx context.Context, socks sockets, ifs []iface) error {
	pkts := make(chan packet, 64)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { socks.read4(pkts, done) })
	if socks.v6 != nil {
		wg.Go(func() { socks.read6(pkts, done) })
	}
	s := &session{r: r, socks: socks, ifs: ifs}
	s.name, s.apps = r.wanted()
	defer func() {
		if !s.probing {
			s.sendAll(0)
		}
		close(done)
		socks.close()
		wg.Wait()
		r.setStatus(func(st *Status) { st.State, st.Detail = StateStopped, "" })
	}()
	r.setStatus(func(st *Status) { st.Interfaces, st.Name, st.Conflicts, st.Detail = names(ifs), s.name, 0, "" })

	s.timer = time.NewTimer(time.Hour)
	defer s.timer.Stop()
	s.startProbing(time.Duration(rand.Int64N(int64(probeInterval))))
	refresh := time.NewTicker(r.cfg.Refresh)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.timer.C:
			s.tick()
		case p := <-pkts:
			s.handle(p)
		case <-r.changed:
			s.changed()
		case <-refresh.C:
			s.refresh()
		}
	}
}
