package rt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/hearthbox/hearth/runtime/health"
	"github.com/hearthbox/hearth/runtime/logfile"
	"github.com/hearthbox/hearth/runtime/network"
)

// Sentinel errors. Validation errors are *FieldError values that match
// ErrInvalid.
var (
	ErrInvalid         = errors.New("invalid container spec")
	ErrNotFound        = errors.New("not found")
	ErrImageNotPulled  = errors.New("image not pulled")
	ErrDigestMismatch  = errors.New("digest mismatch")
	ErrUnauthorized    = errors.New("registry refused the credentials")
	ErrUnreachable     = errors.New("registry unreachable")
	ErrBadReference    = errors.New("malformed image reference")
	ErrContainerExists = errors.New("container exists with another owner")
)

const (
	labelPrefix  = "hearth."
	labelManaged = "hearth.managed"
	labelGroup   = "hearth.group"
	labelHash    = "hearth.spec-hash"
	labelNetwork = "hearth.network"
	// labelHostNetwork marks a container on the host's network.
	labelHostNetwork = "hearth.host-network"
)

var networkPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// Config configures a Client. StateDir, DataRoot and LogDriver are required.
type Config struct {
	// Address is containerd's socket; default /run/containerd/containerd.sock.
	Address string
	// Namespace is the containerd namespace of all Hearth's objects; default "hearth".
	Namespace string
	// StateDir holds the runtime's own files: container specs, resolv.conf
	// and hosts files, logs, network records.
	StateDir string
	// DataRoot is the folder every ContainerSpec.DataDir must lie under.
	DataRoot string
	// LogDriver is the binary that containerd's shim starts to write a
	// container's output (hearthd itself; see package logfile).
	LogDriver string
	// LogMaxBytes and LogMaxFiles cap each container's log; defaults 10 MiB and 3.
	LogMaxBytes int64
	LogMaxFiles int
	// Snapshotter defaults to "overlayfs".
	Snapshotter string
	// Network configures the bridge networks (pool, names, CNI plugin folders).
	// Its StateDir defaults to StateDir/network.
	Network network.Config
	// Defaults fill a spec's zero resources.
	Defaults Resources
	Logger   *slog.Logger
}

// Client drives containerd. It is safe for concurrent use; operations on one
// container ID are serialised.
type Client struct {
	cfg Config
	log *slog.Logger
	ctd *containerd.Client
	net *network.Manager
	hm  *health.Monitor

	events *broker

	// mu guards locks, the per-container operation locks.
	mu    sync.Mutex
	locks map[string]*sync.Mutex

	// oomMu guards oom, the containers that had an OOM kill since their last start.
	oomMu sync.Mutex
	oom   map[string]bool

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New connects to containerd, restores the networks and re-attaches to the
// containers that a previous process started, leaving them running. State
// that a crash left behind (network attachments of containers that are gone)
// is cleaned.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.StateDir == "" || cfg.DataRoot == "" || cfg.LogDriver == "" {
		return nil, fmt.Errorf("runtime config: StateDir, DataRoot and LogDriver are required")
	}
	if !filepath.IsAbs(cfg.StateDir) || !filepath.IsAbs(cfg.DataRoot) || !filepath.IsAbs(cfg.LogDriver) {
		return nil, fmt.Errorf("runtime config: StateDir, DataRoot and LogDriver must be absolute paths")
	}
	if cfg.Address == "" {
		cfg.Address = "/run/containerd/containerd.sock"
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "hearth"
	}
	if cfg.Snapshotter == "" {
		cfg.Snapshotter = "overlayfs"
	}
	if cfg.LogMaxBytes <= 0 {
		cfg.LogMaxBytes = 10 << 20
	}
	if cfg.LogMaxFiles <= 0 {
		cfg.LogMaxFiles = 3
	}
	if cfg.Defaults.MemoryBytes == 0 {
		cfg.Defaults.MemoryBytes = 512 << 20
	}
	if cfg.Defaults.PidsLimit == 0 {
		cfg.Defaults.PidsLimit = 1024
	}
	if cfg.Network.StateDir == "" {
		cfg.Network.StateDir = filepath.Join(cfg.StateDir, "network")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	log := cfg.Logger.With("component", "runtime")
	cfg.Network.Logger = log
	for _, d := range []string{cfg.StateDir, filepath.Join(cfg.StateDir, "containers"), filepath.Join(cfg.StateDir, "logs"), cfg.DataRoot} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("runtime state: %w", err)
		}
	}
	if err := logfile.CheckDriverConfig(filepath.Join(cfg.StateDir, "logs"), cfg.LogMaxBytes, cfg.LogMaxFiles); err != nil {
		return nil, fmt.Errorf("runtime config: logs: %w", err)
	}
	ctd, err := containerd.New(cfg.Address, containerd.WithDefaultNamespace(cfg.Namespace), containerd.WithTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("connect to containerd at %s: %w", cfg.Address, err)
	}
	nm, err := network.New(ctx, cfg.Network)
	if err != nil {
		ctd.Close()
		return nil, fmt.Errorf("networks: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c := &Client{
		cfg:    cfg,
		log:    log,
		ctd:    ctd,
		net:    nm,
		events: newBroker(),
		locks:  map[string]*sync.Mutex{},
		oom:    map[string]bool{},
		cancel: cancel,
	}
	c.hm = health.NewMonitor(log, c.onHealth)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.watchEvents(runCtx)
	}()
	if err := c.recover(c.ns(ctx)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close stops watching containers. The containers keep running.
func (c *Client) Close() error {
	c.cancel()
	c.hm.Close()
	c.wg.Wait()
	c.events.close()
	return errors.Join(c.net.Close(), c.ctd.Close())
}

func (c *Client) ns(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, c.cfg.Namespace)
}

// lock serialises operations on one container ID.
func (c *Client) lock(id string) func() {
	c.mu.Lock()
	l, ok := c.locks[id]
	if !ok {
		l = &sync.Mutex{}
		c.locks[id] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (c *Client) containerDir(id string) string {
	return filepath.Join(c.cfg.StateDir, "containers", id)
}

func (c *Client) logDir() string { return filepath.Join(c.cfg.StateDir, "logs") }

// EnsureNetwork creates a group's bridge network, or updates its egress
// switch. It is idempotent.
func (c *Client) EnsureNetwork(ctx context.Context, s NetworkSpec) (netip.Prefix, error) {
	if !networkPattern.MatchString(s.Name) {
		return netip.Prefix{}, fieldErr("network.name", "%q must be 1-32 characters of a-z, 0-9 and '-'", s.Name)
	}
	n, err := c.net.Ensure(ctx, network.Spec{Name: s.Name, Egress: s.Egress, HostPorts: s.HostPorts})
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("ensure network %s: %w", s.Name, err)
	}
	return n.Subnet, nil
}

// RemoveNetwork deletes a network that no container uses any more.
func (c *Client) RemoveNetwork(ctx context.Context, name string) error {
	if err := c.net.Remove(ctx, name); err != nil {
		return fmt.Errorf("remove network %s: %w", name, err)
	}
	return nil
}

// Networks names the networks the runtime has made.
func (c *Client) Networks() []string {
	nets := c.net.List()
	out := make([]string, 0, len(nets))
	for _, n := range nets {
		out = append(out, n.Name)
	}
	return out
}
