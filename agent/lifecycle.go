package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/manifest"
	"github.com/hearthbox/hearth/agent/state"
	rt "github.com/hearthbox/hearth/runtime"
)

// installParams are what the owner asked for; the operation keeps them so
// that a resumed install does the same.
type installParams struct {
	Catalog  string            `json:"catalog,omitempty"`
	Version  string            `json:"version,omitempty"`
	Settings map[string]string `json:"settings,omitempty"`
	// Manifest is set for an app from no catalog.
	Manifest json.RawMessage `json:"manifest,omitempty"`
	// Grants are the host permissions the owner granted.
	Grants []manifest.Permission `json:"grants,omitempty"`
}

// updateParams carry an update's choices across a crash.
type updateParams struct {
	Version string `json:"version,omitempty"`
	// Manifest is set when an app from no catalog gets a new manifest.
	Manifest json.RawMessage `json:"manifest,omitempty"`
	// Images are the new version's pinned images, once pulled.
	Images map[string]string `json:"images,omitempty"`
	// Before is the app as it was before the switch, to put back on failure.
	Before *state.App `json:"before,omitempty"`
	// Snapshot is the pre-update backup of the app's data (see
	// updateBackup), restored if the update fails; WasWanted is what the
	// owner wanted before the backup stopped the app.
	Snapshot  string `json:"snapshot,omitempty"`
	WasWanted string `json:"wasWanted,omitempty"`
}

type uninstallParams struct {
	KeepData bool `json:"keepData"`
}

func (a *Agent) installKind() kindDef {
	return kindDef{
		steps: []stepDef{
			{"prepare", a.installPrepare},
			{"addons", a.provisionAddons},
			{"pull", a.pullImages},
			{"start", func(ctx context.Context, r *opRun) error { return a.setWanted(r.op.App, "running") }},
			{"verify", func(ctx context.Context, r *opRun) error { return a.waitHealthy(ctx, r, r.op.App) }},
		},
		undo: func(ctx context.Context, r *opRun, _ error) (string, error) {
			// A failed install leaves nothing: not the app, not its data.
			return opFailed, errors.Join(a.dropAddons(ctx, r.op.App), a.removeApp(ctx, r, false))
		},
	}
}

func (a *Agent) installPrepare(ctx context.Context, r *opRun) error {
	var p installParams
	if err := r.params(&p); err != nil {
		return err
	}
	if existing, err := a.store.App(r.op.App); err == nil {
		if existing.Wanted == state.WantPending {
			return nil // this install, resumed
		}
		return fmt.Errorf("app %s is already installed: %w", r.op.App, api.ErrInvalid)
	} else if !errors.Is(err, state.ErrNotFound) {
		return err
	}
	rel, err := a.releaseFor(p.Catalog, r.op.App, p.Version, p.Manifest)
	if err != nil {
		return err
	}
	if err := a.admit(rel); err != nil {
		return err
	}
	if err := a.admitHost(rel.Manifest, p.Grants, grantHint); err != nil {
		return err
	}
	settings, secrets, err := resolveSettings(rel.Manifest, p.Settings, nil, nil)
	if err != nil {
		return err
	}
	port, err := a.freePort()
	if err != nil {
		return err
	}
	return a.store.PutApp(state.App{
		ID: r.op.App, CatalogID: rel.Catalog, Version: rel.Version, Manifest: rel.Raw,
		Settings: settings, Secrets: secrets, Wanted: state.WantPending, Port: port,
	})
}

// pullImages pulls the images of the app's manifest and pins what it got.
func (a *Agent) pullImages(ctx context.Context, r *opRun) error {
	app, err := a.store.App(r.op.App)
	if err != nil {
		return err
	}
	m, err := parseManifest(app.Manifest)
	if err != nil {
		return err
	}
	pinned, err := a.pull(ctx, r, m)
	if err != nil {
		return err
	}
	app.Images = pinned
	return a.store.PutApp(app)
}

// pull pulls every service's image for this platform, reporting bytes, and
// returns the pinned references by service.
func (a *Agent) pull(ctx context.Context, r *opRun, m *Manifest) (map[string]string, error) {
	refs, err := imageRefs(m, a.cfg.Platform)
	if err != nil {
		return nil, err
	}
	pinned := map[string]string{}
	for _, svc := range sortedKeys(refs) {
		ref := refs[svc]
		r.report(api.Progress{Step: "pull", Message: "pulling " + ref})
		// The runtime reports each blob; the owner sees the image's sum.
		var mu sync.Mutex
		blobs := map[string][2]int64{}
		img, err := a.rt.Pull(ctx, ref, rt.PullOptions{
			Platform:    a.cfg.Platform,
			Credentials: a.cfg.Credentials,
			Progress: func(p rt.PullProgress) {
				mu.Lock()
				blobs[p.Digest] = [2]int64{p.Done, p.Total}
				var done, total int64
				for _, b := range blobs {
					done, total = done+b[0], total+b[1]
				}
				mu.Unlock()
				r.report(api.Progress{Step: "pull", Message: svc, BytesDone: done, BytesTotal: total})
			},
		})
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", svc, err)
		}
		pinned[svc] = img.Ref
	}
	return pinned, nil
}

func (a *Agent) setWanted(app, wanted string) error {
	rec, err := a.store.App(app)
	if err != nil {
		return err
	}
	if rec.Wanted == wanted {
		return nil
	}
	rec.Wanted = wanted
	if err := a.store.PutApp(rec); err != nil {
		return err
	}
	a.poke()
	return nil
}

// wantedKind is start, stop and restart: set what the owner wants, and for
// restart stop the containers first so that the loop starts them anew.
func (a *Agent) wantedKind(wanted string, restart bool) kindDef {
	steps := []stepDef{}
	if restart {
		steps = append(steps, stepDef{"stop", func(ctx context.Context, r *opRun) error {
			infos, err := a.rt.List(ctx, r.op.App)
			if err != nil {
				return err
			}
			for _, i := range infos {
				if err := a.rt.Stop(ctx, i.ID, 0); err != nil {
					return err
				}
			}
			return nil
		}})
	}
	steps = append(steps,
		stepDef{"apply", func(ctx context.Context, r *opRun) error { return a.setWanted(r.op.App, wanted) }},
		stepDef{"verify", func(ctx context.Context, r *opRun) error {
			if wanted == "running" {
				return a.waitHealthy(ctx, r, r.op.App)
			}
			return a.waitStopped(ctx, r.op.App)
		}},
	)
	return kindDef{steps: steps}
}

func (a *Agent) updateKind() kindDef {
	return kindDef{
		steps: []stepDef{
			{"pull", a.updatePull},
			{"backup", a.updateBackup},
			{"switch", a.updateSwitch},
			{"verify", func(ctx context.Context, r *opRun) error { return a.waitHealthy(ctx, r, r.op.App) }},
		},
		undo: a.revert,
	}
}

func (a *Agent) updatePull(ctx context.Context, r *opRun) error {
	var p updateParams
	if err := r.params(&p); err != nil {
		return err
	}
	app, err := a.store.App(r.op.App)
	if err != nil {
		return err
	}
	rel, err := a.releaseFor(app.CatalogID, app.ID, p.Version, p.Manifest)
	if err != nil {
		return err
	}
	p.Version = rel.Version
	p.Images, err = a.pull(ctx, r, rel.Manifest)
	if err != nil {
		return err
	}
	return r.saveParams(p)
}

// updateSwitch makes the new version the wanted one, remembering the old.
func (a *Agent) updateSwitch(ctx context.Context, r *opRun) error {
	var p updateParams
	if err := r.params(&p); err != nil {
		return err
	}
	app, err := a.store.App(r.op.App)
	if err != nil {
		return err
	}
	rel, err := a.releaseFor(app.CatalogID, app.ID, p.Version, p.Manifest)
	if err != nil {
		return err
	}
	if p.Before != nil && app.Version == rel.Version && sameJSON(app.Manifest, rel.Raw) {
		return nil // switched before a crash
	}
	settings, secrets, err := resolveSettings(rel.Manifest, nil, app.Settings, app.Secrets)
	if err != nil {
		return err
	}
	before := app
	if p.WasWanted != "" {
		before.Wanted = p.WasWanted // the backup stopped it
	}
	p.Before = &before
	if err := r.saveParams(p); err != nil {
		return err
	}
	app.PreviousVersion, app.PreviousManifest, app.PreviousSettings, app.PreviousImages = app.Version, app.Manifest, app.Settings, app.Images
	app.Version, app.Manifest, app.Settings, app.Secrets, app.Images = rel.Version, rel.Raw, settings, secrets, p.Images
	app.Wanted = "running"
	if err := a.store.PutApp(app); err != nil {
		return err
	}
	a.poke()
	return nil
}

// revert puts back the app as it was before a failed update or rollback
// and waits for it to be healthy again.
func (a *Agent) revert(ctx context.Context, r *opRun, cause error) (string, error) {
	var p updateParams
	if err := r.params(&p); err != nil {
		return opFailed, err
	}
	if p.Before == nil {
		return opFailed, a.startAfterBackup(r.op.App, p.WasWanted) // nothing was switched
	}
	r.report(api.Progress{Step: "revert", Message: "putting back version " + p.Before.Version + ": " + cause.Error()})
	if err := a.putBackData(ctx, r, p); err != nil {
		return opFailed, err
	}
	if err := a.store.PutApp(*p.Before); err != nil {
		return opFailed, err
	}
	a.poke()
	if err := a.waitHealthy(ctx, r, r.op.App); err != nil {
		return opFailed, fmt.Errorf("the previous version %s is not healthy either: %w", p.Before.Version, err)
	}
	a.noticeRolledBack(r.op.App, p.Before.Version, cause)
	return opRolledBack, nil
}

func (a *Agent) rollbackKind() kindDef {
	return kindDef{
		steps: []stepDef{
			{"switch", func(ctx context.Context, r *opRun) error {
				var p updateParams
				if err := r.params(&p); err != nil {
					return err
				}
				app, err := a.store.App(r.op.App)
				if err != nil {
					return err
				}
				if p.Before != nil {
					return nil // switched before a crash
				}
				if app.PreviousVersion == "" {
					return fmt.Errorf("app %s has no previous version to roll back to: %w", app.ID, api.ErrInvalid)
				}
				before := app
				p.Before = &before
				if err := r.saveParams(p); err != nil {
					return err
				}
				app.Version, app.PreviousVersion = app.PreviousVersion, app.Version
				app.Manifest, app.PreviousManifest = app.PreviousManifest, app.Manifest
				app.Settings, app.PreviousSettings = app.PreviousSettings, app.Settings
				app.Images, app.PreviousImages = app.PreviousImages, app.Images
				app.Wanted = "running"
				if err := a.store.PutApp(app); err != nil {
					return err
				}
				a.poke()
				return nil
			}},
			{"verify", func(ctx context.Context, r *opRun) error { return a.waitHealthy(ctx, r, r.op.App) }},
		},
		undo: a.revert,
	}
}

func (a *Agent) uninstallKind() kindDef {
	return kindDef{steps: []stepDef{
		{"stop", func(ctx context.Context, r *opRun) error {
			if _, err := a.store.App(r.op.App); errors.Is(err, state.ErrNotFound) {
				return nil // removed before a crash
			}
			if err := a.setWanted(r.op.App, "stopped"); err != nil {
				return err
			}
			return a.waitStopped(ctx, r.op.App)
		}},
		{"remove", func(ctx context.Context, r *opRun) error {
			var p uninstallParams
			if err := r.params(&p); err != nil {
				return err
			}
			if !p.KeepData { // kept data keeps the addons' databases too
				if err := a.dropAddons(ctx, r.op.App); err != nil {
					return err
				}
			}
			return a.removeApp(ctx, r, p.KeepData)
		}},
	}}
}

// removeApp deletes the app's record, waits until the loop has removed its
// containers and network, and deletes its data folder unless keepData.
func (a *Agent) removeApp(ctx context.Context, r *opRun, keepData bool) error {
	if err := a.store.DeleteApp(r.op.App); err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	a.poke()
	err := a.waitFor(ctx, 2*time.Minute, func() (bool, string, error) {
		infos, err := a.rt.List(ctx, r.op.App)
		if err != nil {
			return false, "", err
		}
		for _, n := range a.rt.Networks() {
			if n == r.op.App {
				return false, "network still there", nil
			}
		}
		return len(infos) == 0, fmt.Sprintf("%d containers left", len(infos)), nil
	})
	if err != nil {
		return err
	}
	if keepData {
		return nil
	}
	dir, err := a.dataDir(r.op.App)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("delete the data of %s: %w", r.op.App, err)
	}
	return nil
}

// dataDir is the app's data folder; the id is validated, so it cannot leave
// the data root.
func (a *Agent) dataDir(app string) (string, error) {
	if !appIDPattern.MatchString(app) {
		return "", fmt.Errorf("app id %q: %w", app, api.ErrInvalid)
	}
	return filepath.Join(a.cfg.DataRoot, app), nil
}

func (r *opRun) saveParams(p any) error {
	b, err := jsonMarshal(p)
	if err != nil {
		return err
	}
	r.op.Params = b
	return r.a.store.UpdateOp(r.op)
}

// waitHealthy waits until every container of the app runs and those with a
// health check are healthy. An unhealthy container fails it at once; a
// crashing one is given until the time limit (the loop restarts it).
func (a *Agent) waitHealthy(ctx context.Context, r *opRun, appID string) error {
	r.report(api.Progress{Step: "verify", Message: "waiting for the app to be healthy"})
	return a.waitFor(ctx, a.cfg.HealthTimeout, func() (bool, string, error) {
		app, err := a.store.App(appID)
		if err != nil {
			return false, "", err
		}
		d, err := a.desired(app)
		if err != nil {
			return false, "", err
		}
		for _, spec := range d.Containers {
			info, err := a.rt.Inspect(ctx, spec.ID)
			if errors.Is(err, rt.ErrNotFound) {
				return false, spec.ID + " not created yet", nil
			}
			if err != nil {
				return false, "", err
			}
			if info.SpecHash != rt.SpecHash(spec) {
				return false, spec.ID + " not replaced yet", nil
			}
			if info.State != rt.StateRunning {
				why := fmt.Sprintf("%s is %s", spec.ID, info.State)
				if info.State == rt.StateStopped {
					why += fmt.Sprintf(" (exit code %d", info.ExitCode)
					if info.OOMKilled {
						why += ", out of memory"
					}
					why += ")"
				}
				return false, why, nil
			}
			switch {
			case info.Health == rt.HealthUnhealthy:
				return false, "", fmt.Errorf("service %s is unhealthy: its health check fails", spec.Names[0])
			case spec.Health != nil && info.Health != rt.HealthHealthy:
				return false, spec.ID + " is starting", nil
			}
		}
		return true, "", nil
	})
}

func (a *Agent) waitStopped(ctx context.Context, appID string) error {
	return a.waitFor(ctx, 2*time.Minute, func() (bool, string, error) {
		infos, err := a.rt.List(ctx, appID)
		if err != nil {
			return false, "", err
		}
		for _, i := range infos {
			if i.State == rt.StateRunning || i.State == rt.StatePaused {
				return false, i.ID + " still running", nil
			}
		}
		return true, "", nil
	})
}

// waitFor polls cond, waking the reconcile loop each time, until it is
// true, fails, or the limit passes (then the last reason is the error).
func (a *Agent) waitFor(ctx context.Context, limit time.Duration, cond func() (bool, string, error)) error {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	why := ""
	for {
		a.poke()
		ok, reason, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		why = reason
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("not ready after %s: %s", limit, why)
		case <-tick.C:
		}
	}
}

// freePort is the lowest app port no installed app has; app ports are
// taken from a thousand starting at Config.FirstPort.
func (a *Agent) freePort() (int, error) {
	apps, err := a.store.Apps()
	if err != nil {
		return 0, err
	}
	used := map[int]bool{}
	for _, app := range apps {
		used[app.Port] = true
	}
	last := a.cfg.FirstPort + 999
	for p := a.cfg.FirstPort; p <= last; p++ {
		if !used[p] {
			return p, nil
		}
	}
	return 0, fmt.Errorf("every app port from %d to %d is taken: %w", a.cfg.FirstPort, last, api.ErrRefused)
}

// sameJSON says whether two JSON texts are equal but for white space (the
// store keeps manifests compacted).
func sameJSON(a, b []byte) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}
