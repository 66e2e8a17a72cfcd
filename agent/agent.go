package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/hearthbox/hearth/agent/accounts"
	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/catalog"
	"github.com/hearthbox/hearth/agent/notify"
	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/proxy"
	rt "github.com/hearthbox/hearth/runtime"
)

// Config wires an Agent. Store, Runtime, Catalogs and DataRoot are required.
type Config struct {
	Store    *state.Store
	Runtime  Runtime
	Catalogs *catalog.Manager
	// Sources are the catalogs the box trusts from its build (the embedded
	// official one, and in development the sample one); the owner's own
	// third-party catalogs come from the store.
	Sources []catalog.Source
	// BuiltIn holds, by source id, the signed envelope built into the
	// binary (or made at start in development), used until a refresh.
	BuiltIn map[string][]byte
	// DataRoot holds one folder per app (the runtime's DataRoot).
	DataRoot string
	// Platform is "linux/amd64" or "linux/arm64"; default the host's.
	Platform string
	// Version is hearthd's version, for Status.
	Version string
	// HealthTimeout bounds how long an install or update waits for the app
	// to become healthy; default 3 minutes.
	HealthTimeout time.Duration
	// Resync is how often the reconcile loop runs without being woken;
	// default 30 s.
	Resync time.Duration
	// Admission limits what may be installed; zero values read the host.
	Admission Admission
	// Proxy gives every app its names; nil runs without one.
	Proxy Proxy
	// Firewall opens the ports the apps were granted; nil runs without one.
	Firewall Firewall
	// BoxName is the box's name on the LAN ("hearth" is "hearth.local").
	BoxName string
	// Domain is the box's public domain, "" when it has none.
	Domain string
	// FirstPort is the first of the apps' own ports on the box's name
	// (default 10001); a thousand are used.
	FirstPort int
	// Credentials logs in to private registries.
	Credentials func(host string) (rt.Credentials, bool)
	// Backup backs apps up (restic); nil turns backups off, and updates
	// then take no snapshot first.
	Backup Backuper
	// Addons runs the addon servers apps ask for (addons_ops.go); nil
	// refuses apps that ask for postgresql, mysql, redis or sendmail.
	Addons Addons
	// Reach runs dynamic DNS and reports reachability (reach.go); nil
	// answers its API with ErrUnavailable.
	Reach *Reach
	// Notifier tells the owner of trouble (notify.go, NewNotifier); nil runs without notices.
	Notifier *notify.Notifier
	// BackupTick is how often the backup and update schedules are
	// checked; default 1 minute.
	BackupTick time.Duration
	// Setup wires the first-boot wizard (setup.go); Accounts tunes the
	// users' passwords, sessions and lockout (zero: the defaults).
	Setup    SetupConfig
	Accounts accounts.Options
	// Fault, when set (tests only), is called at every step boundary of an
	// operation with "<kind>/<step>/<before|after>"; a test makes it kill the
	// process to prove that the next start recovers.
	Fault  func(point string)
	Now    func() time.Time
	Logger *slog.Logger
}

// Agent turns the owner's wishes into running apps: it keeps every
// decision in the state store, runs persisted operations, and reconciles the
// runtime against the store in one loop.
type Agent struct {
	cfg      Config
	log      *slog.Logger
	store    *state.Store
	rt       Runtime
	catalogs *catalog.Manager
	backoff  *restartBackoff
	progress *progress
	started  time.Time

	wake  chan struct{}
	ready chan struct{}

	// mu guards running, the operations this process is executing, and
	// lastRoutes, what the proxy was last given.
	mu         sync.Mutex
	running    map[string]bool
	lastRoutes []proxy.Route

	// acct is the users and sessions; setupMu serialises the first-boot
	// wizard's changes and setup code attempts.
	acct    *accounts.Service
	setupMu sync.Mutex

	// ctx is the agent's lifetime, from New until Run returns; operations
	// run under it, also those begun before Run started.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ api.Service = (*Agent)(nil)

// New checks the configuration and loads the catalogs. Run starts the work.
func New(cfg Config) (*Agent, error) {
	if cfg.Store == nil || cfg.Runtime == nil || cfg.Catalogs == nil || cfg.DataRoot == "" {
		return nil, errors.New("agent config: Store, Runtime, Catalogs and DataRoot are required")
	}
	if cfg.FirstPort == 0 {
		cfg.FirstPort = 10001
	}
	if cfg.BoxName == "" {
		cfg.BoxName = "hearth"
	}
	if cfg.Platform == "" {
		cfg.Platform = "linux/" + runtime.GOARCH
	}
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = 3 * time.Minute
	}
	if cfg.Resync <= 0 {
		cfg.Resync = 30 * time.Second
	}
	if cfg.BackupTick <= 0 {
		cfg.BackupTick = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Agent{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "agent"),
		store:    cfg.Store,
		rt:       cfg.Runtime,
		catalogs: cfg.Catalogs,
		backoff:  newRestartBackoff(),
		progress: newProgress(),
		started:  cfg.Now(),
		wake:     make(chan struct{}, 1),
		ready:    make(chan struct{}),
		running:  map[string]bool{},
	}
	if err := a.loadCatalogs(); err != nil {
		return nil, err
	}
	if err := a.initAccounts(); err != nil {
		return nil, err
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	return a, nil
}

// Ready is closed once the first reconcile pass has run.
func (a *Agent) Ready() <-chan struct{} { return a.ready }

// Run resumes the operations a crash interrupted and reconciles until ctx
// ends, then waits for the operations it runs.
func (a *Agent) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, a.cancel)
	defer stop()
	defer a.wg.Wait()
	defer a.cancel()
	events := a.rt.Events(ctx)
	watch := a.store.Watch()
	if err := a.ensureAllAddons(ctx); err != nil {
		a.log.Error("addons", "err", err)
	}
	if err := a.resumeOperations(ctx); err != nil {
		a.log.Error("resume operations", "err", err)
	}
	a.startSetup(ctx)
	ticker := time.NewTicker(a.cfg.Resync)
	defer ticker.Stop()
	schedule := time.NewTicker(a.cfg.BackupTick)
	defer schedule.Stop()
	first := true
	for {
		if err := a.reconcile(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("reconcile", "err", err)
		}
		if first {
			close(a.ready)
			first = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-a.wake:
		case <-watch:
		case ev, ok := <-events:
			if !ok {
				events = nil
			} else {
				a.log.Debug("runtime event", "type", ev.Type, "container", ev.Container)
				a.noticeEvent(ev)
			}
		case <-ticker.C:
		case <-schedule.C:
			a.runSchedules(ctx)
		}
	}
}

// poke wakes the reconcile loop.
func (a *Agent) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *Agent) activity(actor, app, action, outcome, detail string) {
	if _, err := a.store.AddActivity(state.Activity{Time: a.cfg.Now(), Actor: actor, App: app, Action: action, Outcome: outcome, Detail: detail}); err != nil {
		a.log.Warn("activity log", "err", err)
	}
}

// notFound wraps api.ErrNotFound with what was not found.
func notFound(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), api.ErrNotFound)
}
