package addons

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
)

// Server is one addon kind's server and provisioner.
type Server interface {
	Provisioner
	// Start starts the server (initialising it on first use) and waits
	// until it answers; Stop shuts it down. Both are idempotent.
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Running() bool
	// SetListen sets the addresses besides 127.0.0.1 it listens on.
	SetListen(ctx context.Context, addrs []netip.Addr) error
	// Port is the TCP port the apps connect to.
	Port() uint16
}

var (
	_ Server = (*Postgres)(nil)
	_ Server = (*MariaDB)(nil)
	_ Server = (*Redis)(nil)
	_ Server = (*Sendmail)(nil)
)

// ManagerConfig configures every addon server. Dir is required; the
// others have the kinds' defaults.
type ManagerConfig struct {
	// Dir is <state>/addons: each kind gets Dir/<kind>. It and its
	// parents must let the servers' system users through (mode 0711).
	Dir        string
	PostgreSQL PostgresConfig
	MySQL      MariaDBConfig
	Redis      RedisConfig
	Sendmail   SendmailConfig
	// Output receives the servers' logs; nil discards them.
	Output io.Writer
	Logger *slog.Logger
}

// Manager holds one Server per kind and starts a kind's server only while
// some app uses it.
type Manager struct {
	servers map[string]Server
	log     *slog.Logger
}

// NewManager makes the servers (it starts none).
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if !filepath.IsAbs(cfg.Dir) {
		return nil, fmt.Errorf("addons: Dir %q: must be an absolute path: %w", cfg.Dir, ErrInvalid)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pg, my, rd := cfg.PostgreSQL, cfg.MySQL, cfg.Redis
	pg.Dir, my.Dir, rd.Dir = filepath.Join(cfg.Dir, KindPostgreSQL), filepath.Join(cfg.Dir, KindMySQL), filepath.Join(cfg.Dir, KindRedis)
	pg.Output, my.Output, rd.Output = cfg.Output, cfg.Output, cfg.Output
	pg.Logger, my.Logger, rd.Logger = cfg.Logger, cfg.Logger, cfg.Logger
	p, err := NewPostgres(pg)
	if err != nil {
		return nil, err
	}
	m, err := NewMariaDB(my)
	if err != nil {
		return nil, err
	}
	r, err := NewRedis(rd)
	if err != nil {
		return nil, err
	}
	sm := cfg.Sendmail
	sm.Dir, sm.Logger = filepath.Join(cfg.Dir, KindSendmail), cfg.Logger
	s, err := NewSendmail(sm)
	if err != nil {
		return nil, err
	}
	return &Manager{
		servers: map[string]Server{KindPostgreSQL: p, KindMySQL: m, KindRedis: r, KindSendmail: s},
		log:     cfg.Logger.With("component", "addons"),
	}, nil
}

// Server returns the kind's server.
func (m *Manager) Server(kind string) (Server, bool) {
	s, ok := m.servers[kind]
	return s, ok
}

// Sync starts the server of every kind in use, listening on the given
// gateway addresses (those not on a host interface yet are left out: the
// next Sync after the network's bridge appears adds them), and stops the
// servers of kinds no app uses. It goes on past a failing kind.
func (m *Manager) Sync(ctx context.Context, use map[string][]netip.Addr) error {
	have := hostAddrs()
	var errs []error
	for _, kind := range slices.Sorted(maps.Keys(m.servers)) {
		s := m.servers[kind]
		addrs, used := use[kind]
		if !used {
			if s.Running() {
				m.log.Info("addon no longer used: stopping its server", "kind", kind)
				errs = append(errs, s.Stop(ctx))
			}
			continue
		}
		var listen []netip.Addr
		for _, a := range addrs {
			if have[a] {
				listen = append(listen, a)
			}
		}
		if err := s.SetListen(ctx, listen); err != nil {
			errs = append(errs, err)
			continue
		}
		if !s.Running() {
			m.log.Info("addon used: starting its server", "kind", kind)
			errs = append(errs, s.Start(ctx))
		}
	}
	return errors.Join(errs...)
}

// Close stops every server.
func (m *Manager) Close(ctx context.Context) error {
	var errs []error
	for _, s := range m.servers {
		errs = append(errs, s.Stop(ctx))
	}
	return errors.Join(errs...)
}

// hostAddrs are the IPv4 addresses of the host's interfaces.
func hostAddrs() map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return out
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out[ip.Unmap()] = true
			}
		}
	}
	return out
}
