// Package apitest holds Fake, an in-memory api.Service that records its
// calls and answers with canned values and errors, for the tests of the
// API server, the hearth CLI and the web UI. Only tests import it.
package apitest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hearthbox/hearth/agent/api"
)

// Call is one recorded call of a Service method.
type Call struct {
	Method string
	Args   []any
	Actor  string // api.ActorFrom of the call's context
}

// Fake is an api.Service made of canned values. Set its fields before it
// serves; read what it saw with Calls. Methods that find nothing return an
// error wrapping api.ErrNotFound; Err overrides any method's answer.
type Fake struct {
	Box         api.Status // what Status returns
	CatalogList []api.Catalog
	StoreApps   []api.CatalogApp
	Installed   []api.App
	ActivityLog []api.Activity
	LogLines    []api.LogLine
	// LogsErr is returned by Logs after it sent LogLines (not before: see Err).
	LogsErr error
	// Follow feeds Logs with Follow set after LogLines, until it is closed
	// or the caller's context ends.
	Follow chan api.LogLine
	// NextOp is what the next operation (Install, Start, ...) returns, with
	// its App and Kind filled in when empty; Operation then knows it.
	NextOp api.Operation
	// Progress is what WatchOperation sends; an event with Done set also
	// ends the watched operation as Operation then reports it.
	Progress []api.Progress
	// Ops are the operations Operation knows.
	Ops map[string]api.Operation
	// Backup is the canned backup state (backup.go).
	Backup Backup
	// DDNS is what DDNSStatus returns; SetDDNS replaces its settings.
	DDNS api.DDNSStatus
	// Notify is the canned notices and mail settings (notify.go).
	Notify Notify
	// Accounts is the canned users, sessions and setup state (accounts.go).
	Accounts Accounts
	// Err maps a method name ("Install") to the error it returns.
	Err map[string]error

	mu    sync.Mutex // guards calls and Ops
	calls []Call
}

var _ api.Service = (*Fake)(nil)

// Calls returns the calls made so far.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// record notes a call and returns the error the test wants it to return.
func (f *Fake) record(ctx context.Context, method string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, Call{Method: method, Args: args, Actor: api.ActorFrom(ctx)})
	return f.Err[method]
}

// Status implements api.Service.
func (f *Fake) Status(ctx context.Context) (api.Status, error) {
	if err := f.record(ctx, "Status"); err != nil {
		return api.Status{}, err
	}
	return f.Box, nil
}

// Catalogs implements api.Service.
func (f *Fake) Catalogs(ctx context.Context) ([]api.Catalog, error) {
	if err := f.record(ctx, "Catalogs"); err != nil {
		return nil, err
	}
	return f.CatalogList, nil
}

// RefreshCatalogs implements api.Service.
func (f *Fake) RefreshCatalogs(ctx context.Context, id string) ([]api.Catalog, error) {
	if err := f.record(ctx, "RefreshCatalogs", id); err != nil {
		return nil, err
	}
	if id == "" {
		return f.CatalogList, nil
	}
	for _, c := range f.CatalogList {
		if c.ID == id {
			return []api.Catalog{c}, nil
		}
	}
	return nil, fmt.Errorf("catalog %q: %w", id, api.ErrNotFound)
}

// AddCatalog implements api.Service.
func (f *Fake) AddCatalog(ctx context.Context, req api.AddCatalogRequest) (api.Catalog, error) {
	if err := f.record(ctx, "AddCatalog", req); err != nil {
		return api.Catalog{}, err
	}
	return api.Catalog{ID: req.ID, Title: req.Title, URL: req.URL, ThirdParty: true}, nil
}

// RemoveCatalog implements api.Service.
func (f *Fake) RemoveCatalog(ctx context.Context, id string) error {
	if err := f.record(ctx, "RemoveCatalog", id); err != nil {
		return err
	}
	for _, c := range f.CatalogList {
		if c.ID == id {
			return nil
		}
	}
	return fmt.Errorf("catalog %q: %w", id, api.ErrNotFound)
}

// CatalogApps implements api.Service.
func (f *Fake) CatalogApps(ctx context.Context, catalogID string) ([]api.CatalogApp, error) {
	if err := f.record(ctx, "CatalogApps", catalogID); err != nil {
		return nil, err
	}
	if catalogID == "" {
		return f.StoreApps, nil
	}
	var out []api.CatalogApp
	for _, a := range f.StoreApps {
		if a.Catalog == catalogID {
			out = append(out, a)
		}
	}
	return out, nil
}

// Apps implements api.Service.
func (f *Fake) Apps(ctx context.Context) ([]api.App, error) {
	if err := f.record(ctx, "Apps"); err != nil {
		return nil, err
	}
	return f.Installed, nil
}

// App implements api.Service.
func (f *Fake) App(ctx context.Context, id string) (api.App, error) {
	if err := f.record(ctx, "App", id); err != nil {
		return api.App{}, err
	}
	return f.app(id)
}

func (f *Fake) app(id string) (api.App, error) {
	for _, a := range f.Installed {
		if a.ID == id {
			return a, nil
		}
	}
	return api.App{}, fmt.Errorf("app %q: %w", id, api.ErrNotFound)
}

// Install implements api.Service.
func (f *Fake) Install(ctx context.Context, req api.InstallRequest) (api.Operation, error) {
	if err := f.record(ctx, "Install", req); err != nil {
		return api.Operation{}, err
	}
	return f.begin(req.App, "install"), nil
}

// Start implements api.Service.
func (f *Fake) Start(ctx context.Context, id string) (api.Operation, error) {
	return f.appOp(ctx, "Start", "start", id)
}

// Stop implements api.Service.
func (f *Fake) Stop(ctx context.Context, id string) (api.Operation, error) {
	return f.appOp(ctx, "Stop", "stop", id)
}

// Restart implements api.Service.
func (f *Fake) Restart(ctx context.Context, id string) (api.Operation, error) {
	return f.appOp(ctx, "Restart", "restart", id)
}

// Rollback implements api.Service.
func (f *Fake) Rollback(ctx context.Context, id string) (api.Operation, error) {
	return f.appOp(ctx, "Rollback", "rollback", id)
}

// Update implements api.Service.
func (f *Fake) Update(ctx context.Context, id, version string) (api.Operation, error) {
	return f.appOp(ctx, "Update", "update", id, version)
}

// Move implements api.Service.
func (f *Fake) Move(ctx context.Context, id, name string) (api.App, error) {
	if err := f.record(ctx, "Move", id, name); err != nil {
		return api.App{}, err
	}
	app, err := f.app(id)
	if err != nil {
		return api.App{}, err
	}
	app.Name = name
	return app, nil
}

// UpdateManifest implements api.Service.
func (f *Fake) UpdateManifest(ctx context.Context, id string, manifest json.RawMessage) (api.Operation, error) {
	return f.appOp(ctx, "UpdateManifest", "update", id, string(manifest))
}

// Uninstall implements api.Service.
func (f *Fake) Uninstall(ctx context.Context, id string, keepData bool) (api.Operation, error) {
	return f.appOp(ctx, "Uninstall", "uninstall", id, keepData)
}

// appOp is an operation on an installed app.
func (f *Fake) appOp(ctx context.Context, method, kind, id string, more ...any) (api.Operation, error) {
	if err := f.record(ctx, method, append([]any{id}, more...)...); err != nil {
		return api.Operation{}, err
	}
	if _, err := f.app(id); err != nil {
		return api.Operation{}, err
	}
	return f.begin(id, kind), nil
}

// begin returns NextOp for app and kind, and remembers it.
func (f *Fake) begin(app, kind string) api.Operation {
	op := f.NextOp
	if op.App == "" {
		op.App = app
	}
	if op.Kind == "" {
		op.Kind = kind
	}
	if op.ID == "" {
		op.ID = "op-1"
	}
	if op.State == "" {
		op.State = "running"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Ops == nil {
		f.Ops = map[string]api.Operation{}
	}
	f.Ops[op.ID] = op
	return op
}

// Operation implements api.Service.
func (f *Fake) Operation(ctx context.Context, id string) (api.Operation, error) {
	if err := f.record(ctx, "Operation", id); err != nil {
		return api.Operation{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	op, ok := f.Ops[id]
	if !ok {
		return api.Operation{}, fmt.Errorf("operation %q: %w", id, api.ErrNotFound)
	}
	return op, nil
}

// WatchOperation implements api.Service: a goroutine sends Progress and
// closes the channel; it ends early when ctx ends.
func (f *Fake) WatchOperation(ctx context.Context, id string) (<-chan api.Progress, error) {
	if err := f.record(ctx, "WatchOperation", id); err != nil {
		return nil, err
	}
	f.mu.Lock()
	_, ok := f.Ops[id]
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("operation %q: %w", id, api.ErrNotFound)
	}
	ch := make(chan api.Progress)
	events := slices.Clone(f.Progress)
	go func() {
		defer close(ch)
		for _, p := range events {
			if p.Done {
				f.end(id, p)
			}
			select {
			case ch <- p:
			case <-ctx.Done():
				return
			}
			if p.Done {
				return
			}
		}
	}()
	return ch, nil
}

// end records how an operation ended.
func (f *Fake) end(id string, p api.Progress) {
	f.mu.Lock()
	defer f.mu.Unlock()
	op := f.Ops[id]
	op.State, op.Error = p.State, p.Error
	op.Ended = op.Started.Add(time.Minute)
	f.Ops[id] = op
}

// Logs implements api.Service.
func (f *Fake) Logs(ctx context.Context, app string, opts api.LogOptions, fn func(api.LogLine) error) error {
	if err := f.record(ctx, "Logs", app, opts); err != nil {
		return err
	}
	if _, err := f.app(app); err != nil {
		return err
	}
	var lines []api.LogLine
	for _, l := range f.LogLines {
		if opts.Service == "" || l.Service == opts.Service {
			lines = append(lines, l)
		}
	}
	if opts.Tail > 0 && len(lines) > opts.Tail {
		lines = lines[len(lines)-opts.Tail:]
	}
	for _, l := range lines {
		if err := fn(l); err != nil {
			return err
		}
	}
	if f.LogsErr != nil {
		return f.LogsErr
	}
	if !opts.Follow || f.Follow == nil {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case l, ok := <-f.Follow:
			if !ok {
				return nil
			}
			if err := fn(l); err != nil {
				return err
			}
		}
	}
}

// Activity implements api.Service.
func (f *Fake) Activity(ctx context.Context, since uint64, limit int) ([]api.Activity, error) {
	if err := f.record(ctx, "Activity", since, limit); err != nil {
		return nil, err
	}
	var out []api.Activity
	for _, a := range f.ActivityLog {
		if a.Seq > since && (limit <= 0 || len(out) < limit) {
			out = append(out, a)
		}
	}
	return out, nil
}
