package state

import (
	"encoding/json"
	"log/slog"
	"time"
)

// What the owner wants an installed app to be (App.Wanted).
const (
	WantRunning = "running"
	WantStopped = "stopped"
	// WantPending is an app being installed: nothing of it runs yet.
	WantPending = "pending"
)

// Operation kinds (Operation.Kind).
const (
	KindInstall   = "install"
	KindStart     = "start"
	KindStop      = "stop"
	KindRestart   = "restart"
	KindUpdate    = "update"
	KindRollback  = "rollback"
	KindUninstall = "uninstall"
)

// Operation states (Operation.State). Only OpRunning is open; the others are
// final.
const (
	OpRunning    = "running"
	OpDone       = "done"
	OpFailed     = "failed"
	OpRolledBack = "rolledback"
)

// Step states (Step.State).
const (
	StepPending = "pending"
	StepRunning = "running"
	StepDone    = "done"
	StepFailed  = "failed"
	StepUndone  = "undone"
)

// App is the owner's wish for one installed app: the desired state the
// reconcile loop converges on. Manifest is stored compacted. Secrets are
// generated per install and kept in the state file (mode 0600, root); they
// never appear in logs (see LogValue).
type App struct {
	ID               string            `json:"id"`
	CatalogID        string            `json:"catalogId,omitempty"`
	Version          string            `json:"version"`
	Manifest         json.RawMessage   `json:"manifest"`
	Settings         map[string]string `json:"settings,omitempty"`
	Secrets          map[string]string `json:"secrets,omitempty"`
	Wanted           string            `json:"wanted"`
	PreviousVersion  string            `json:"previousVersion,omitempty"`
	PreviousManifest json.RawMessage   `json:"previousManifest,omitempty"`
	PreviousSettings map[string]string `json:"previousSettings,omitempty"`
	// Images are the pinned image references ("repo:tag@sha256:…") the app's
	// services run, by service; set once they are pulled.
	Images         map[string]string `json:"images,omitempty"`
	PreviousImages map[string]string `json:"previousImages,omitempty"`
	// Port is the app's stable port on the box's own name
	// ("hearth.local:10001"), kept for its whole life on the box.
	Port int `json:"port,omitempty"`
	// Name is the app's host name label when the owner moved it ("" = ID).
	Name string `json:"name,omitempty"`
	// OldNames are names it had, redirected to Name until their time.
	OldNames []OldName `json:"oldNames,omitempty"`
	// Installed is set by the store on the first PutApp when zero.
	Installed time.Time `json:"installed,omitzero"`
	// Updated is set by the store on every change.
	Updated time.Time `json:"updated,omitzero"`
	// Generation is managed by the store: it grows on every change (from a
	// counter shared by all apps, so it never repeats) and is the reconcile
	// loop's trigger. PutApp ignores the value passed in.
	Generation uint64 `json:"generation"`
}

// OldName is a name an app had, redirected until Until.
type OldName struct {
	Name  string    `json:"name"`
	Until time.Time `json:"until"`
}

// LogValue logs an app without its manifest, settings or secrets.
func (a App) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", a.ID),
		slog.String("version", a.Version),
		slog.String("wanted", a.Wanted),
		slog.Uint64("generation", a.Generation),
	)
}

// Operation is a persisted, resumable operation on one app. At most one
// operation per app is open (State OpRunning) at a time.
type Operation struct {
	// ID is sortable by time; NewOpID makes one.
	ID     string          `json:"id"`
	App    string          `json:"app"`
	Kind   string          `json:"kind"`
	Params json.RawMessage `json:"params,omitempty"`
	Steps  []Step          `json:"steps,omitempty"`
	State  string          `json:"state"`
	// Error says why a failed or rolled back operation ended so; at most
	// MaxText bytes are kept.
	Error string `json:"error,omitempty"`
	// Started is set by BeginOp when zero.
	Started time.Time `json:"started,omitzero"`
	// Ended is set by UpdateOp when the operation finishes and it is zero.
	Ended time.Time `json:"ended,omitzero"`
	Actor string    `json:"actor"`
}

// Step is one recorded step of an operation.
type Step struct {
	Name    string    `json:"name"`
	State   string    `json:"state"`
	Started time.Time `json:"started,omitzero"`
	Ended   time.Time `json:"ended,omitzero"`
	// Detail is free text (bytes pulled, an error); at most MaxText bytes
	// are kept.
	Detail string `json:"detail,omitempty"`
}

// Activity is one entry of the activity log: who did what, when, and how it
// ended. The store assigns Seq, and Time when zero.
type Activity struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor"`
	App     string    `json:"app,omitempty"`
	Action  string    `json:"action"`
	Outcome string    `json:"outcome"`
	Detail  string    `json:"detail,omitempty"`
}

// CatalogRecord is a catalog the box knows: where it comes from, the keys it
// must be signed with, and the last good signed envelope.
type CatalogRecord struct {
	ID         string      `json:"id"`
	Title      string      `json:"title,omitempty"`
	URL        string      `json:"url,omitempty"`
	Official   bool        `json:"official,omitempty"`
	ThirdParty bool        `json:"thirdParty,omitempty"`
	Keys       []KeyRecord `json:"keys"`
	// Envelope is the last good signed catalog, as served.
	Envelope    []byte    `json:"envelope,omitempty"`
	Timestamp   time.Time `json:"timestamp,omitzero"`
	Digest      string    `json:"digest,omitempty"`
	LastError   string    `json:"lastError,omitempty"`
	LastRefresh time.Time `json:"lastRefresh,omitzero"`
}

// KeyRecord is one ed25519 public key a catalog may be signed with.
type KeyRecord struct {
	ID     string `json:"id"`
	Public []byte `json:"public"`
}
