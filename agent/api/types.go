// Package api is hearthd's local API: HTTP and JSON over a unix socket that
// only root can open, with server-sent events for progress. It declares the
// Service it serves (the agent satisfies it) and the wire types, and holds
// the client that the hearth CLI uses. The web UI calls the same Service.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Errors a Service wraps so that the API can answer with the right status
// and the CLI with the right advice.
var (
	ErrNotFound    = errors.New("not found")              // 404
	ErrInvalid     = errors.New("invalid request")        // 400: the message names the field
	ErrBusy        = errors.New("another operation runs") // 409
	ErrRefused     = errors.New("refused")                // 422: admission control, catalog trust
	ErrUnavailable = errors.New("unavailable")            // 503: not ready yet
)

type actorKey struct{}

// WithActor records who asks (for the activity log) in a request's context.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns who asks, or "system".
func ActorFrom(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}

// Service is what the API serves. The agent implements it; so may a test.
type Service interface {
	BackupService
	ReachService
	NotifyService
	AccountService
	SetupService
	SetupCodeService
	Status(ctx context.Context) (Status, error)

	Catalogs(ctx context.Context) ([]Catalog, error)
	RefreshCatalogs(ctx context.Context, id string) ([]Catalog, error) // id "" refreshes all
	AddCatalog(ctx context.Context, req AddCatalogRequest) (Catalog, error)
	RemoveCatalog(ctx context.Context, id string) error
	CatalogApps(ctx context.Context, catalogID string) ([]CatalogApp, error) // "" lists every catalog's apps

	Apps(ctx context.Context) ([]App, error)
	App(ctx context.Context, id string) (App, error)
	Install(ctx context.Context, req InstallRequest) (Operation, error)
	Start(ctx context.Context, id string) (Operation, error)
	Stop(ctx context.Context, id string) (Operation, error)
	Restart(ctx context.Context, id string) (Operation, error)
	Update(ctx context.Context, id, version string) (Operation, error) // version "" = the latest
	// UpdateManifest updates an app installed from no catalog to a new
	// manifest of its own (a compose project imported again).
	UpdateManifest(ctx context.Context, id string, manifest json.RawMessage) (Operation, error)
	Rollback(ctx context.Context, id string) (Operation, error)
	Uninstall(ctx context.Context, id string, keepData bool) (Operation, error)
	// Move gives an app another name: it answers at <name>.<box>.local (and
	// <name>.<domain>); its old name redirects there for 30 days.
	Move(ctx context.Context, id, name string) (App, error)

	Operation(ctx context.Context, id string) (Operation, error)
	// WatchOperation sends the operation's progress until it ends (the
	// last event has Done set) or ctx ends; the channel is then closed.
	WatchOperation(ctx context.Context, id string) (<-chan Progress, error)
	Logs(ctx context.Context, app string, opts LogOptions, fn func(LogLine) error) error
	Activity(ctx context.Context, since uint64, limit int) ([]Activity, error)
}

// Status is the box's overall state.
type Status struct {
	Version   string    `json:"version"`
	Started   time.Time `json:"started"`
	Apps      int       `json:"apps"`
	Running   int       `json:"running"`
	Unhealthy int       `json:"unhealthy"`
	Platform  string    `json:"platform"`
	DataRoot  string    `json:"dataRoot"`
	// Ready is true once state is open and the first reconcile pass ran.
	Ready bool `json:"ready"`
}

// Catalog is a catalog the box follows.
type Catalog struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	URL         string    `json:"url,omitempty"`
	Official    bool      `json:"official"`
	ThirdParty  bool      `json:"thirdParty"`
	Timestamp   time.Time `json:"timestamp,omitzero"`
	Expires     time.Time `json:"expires,omitzero"`
	Apps        int       `json:"apps"`
	LastRefresh time.Time `json:"lastRefresh,omitzero"`
	// LastError says why the last refresh was refused; the catalog shown is
	// then the last good one.
	LastError string `json:"lastError,omitempty"`
}

// AddCatalogRequest adds a third-party catalog with its own key.
type AddCatalogRequest struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// PublicKey is the catalog's ed25519 public key, base64.
	PublicKey string `json:"publicKey"`
	Title     string `json:"title,omitempty"`
}

// CatalogApp is an app a catalog offers, as a store shows it.
type CatalogApp struct {
	ID          string   `json:"id"`
	Catalog     string   `json:"catalog"`
	ThirdParty  bool     `json:"thirdParty"`
	Title       string   `json:"title"`
	Tagline     string   `json:"tagline"`
	Category    string   `json:"category"`
	Version     string   `json:"version"`
	Versions    []string `json:"versions"`
	Platforms   []string `json:"platforms"`
	Permissions []string `json:"permissions"`
	MemoryMin   int64    `json:"memoryMin"`
	Installed   bool     `json:"installed"`
}

// InstallRequest installs an app from a catalog.
type InstallRequest struct {
	App      string            `json:"app"`
	Catalog  string            `json:"catalog,omitempty"` // "" = the first catalog that has it (official first)
	Version  string            `json:"version,omitempty"` // "" = the latest
	Settings map[string]string `json:"settings,omitempty"`
	// Manifest installs an app from no catalog: a manifest made on this box,
	// such as one imported from a compose project. Catalog and Version are
	// then empty.
	Manifest json.RawMessage `json:"manifest,omitempty"`
	// Grants are the host permissions (host-files, container-engine,
	// host-network, host-pid, privileged) the owner grants by name: an app
	// that asks for one not granted is refused.
	Grants []string `json:"grants,omitempty"`
}

// MoveRequest gives an app another name.
type MoveRequest struct {
	Name string `json:"name"`
}

// App is an installed app.
type App struct {
	ID string `json:"id"`
	// Name is the app's host name label (its id unless moved).
	Name            string `json:"name"`
	Title           string `json:"title"`
	Catalog         string `json:"catalog"`
	Version         string `json:"version"`
	PreviousVersion string `json:"previousVersion,omitempty"`
	Wanted          string `json:"wanted"` // running | stopped
	// State sums up the services: installing, starting, running, healthy,
	// unhealthy, stopped, failed, updating, removing.
	State     string       `json:"state"`
	URLs      []string     `json:"urls,omitempty"`
	Services  []AppService `json:"services"`
	Operation *Operation   `json:"operation,omitempty"` // the open one, if any
	Installed time.Time    `json:"installed"`
	Updated   time.Time    `json:"updated,omitzero"`
	Notes     string       `json:"notes,omitempty"`
	Settings  []SettingKV  `json:"settings,omitempty"` // secrets are not shown
}

// AppService is one service (container) of an installed app.
type AppService struct {
	Name      string `json:"name"`
	Container string `json:"container"`
	Image     string `json:"image"`
	State     string `json:"state"`
	Health    string `json:"health,omitempty"`
	IP        string `json:"ip,omitempty"`
	ExitCode  uint32 `json:"exitCode,omitempty"`
	OOMKilled bool   `json:"oomKilled,omitempty"`
}

// SettingKV is one install setting as the owner sees it.
type SettingKV struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	Value  string `json:"value"`
	Secret bool   `json:"secret"`
}

// Operation is a persisted operation on one app.
type Operation struct {
	ID      string    `json:"id"`
	App     string    `json:"app"`
	Kind    string    `json:"kind"`
	State   string    `json:"state"` // running | done | failed | rolledback
	Error   string    `json:"error,omitempty"`
	Steps   []Step    `json:"steps"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
}

// Step is one step of an operation.
type Step struct {
	Name   string `json:"name"`
	State  string `json:"state"` // pending | running | done | failed | undone
	Detail string `json:"detail,omitempty"`
}

// Progress is a live event of an operation.
type Progress struct {
	Operation string `json:"operation"`
	Step      string `json:"step,omitempty"`
	Message   string `json:"message,omitempty"`
	// BytesDone and BytesTotal count the image download.
	BytesDone  int64 `json:"bytesDone,omitempty"`
	BytesTotal int64 `json:"bytesTotal,omitempty"`
	// Done is set on the last event; State and Error then say how it ended.
	Done  bool   `json:"done,omitempty"`
	State string `json:"state,omitempty"`
	Error string `json:"error,omitempty"`
}

// LogOptions select an app's logs.
type LogOptions struct {
	Service string `json:"service,omitempty"` // "" = all services
	Follow  bool   `json:"follow,omitempty"`
	Tail    int    `json:"tail,omitempty"`
}

// LogLine is one line of an app's output.
type LogLine struct {
	Time    time.Time `json:"time"`
	Service string    `json:"service"`
	Stream  string    `json:"stream"`
	Line    string    `json:"line"`
}

// Activity is one entry of the activity log: who did what, when, and how it ended.
type Activity struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor"`
	App     string    `json:"app,omitempty"`
	Action  string    `json:"action"`
	Outcome string    `json:"outcome"`
	Detail  string    `json:"detail,omitempty"`
}
