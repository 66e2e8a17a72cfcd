package agent

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/catalog"
	"github.com/hearthbox/hearth/agent/manifest"
	"github.com/hearthbox/hearth/agent/state"
)

// release is one version of an app, chosen from a catalog.
type release struct {
	Catalog  string
	Version  string
	Raw      []byte
	Manifest *Manifest
}

// sources are every catalog the box follows: the built-in ones, then the
// owner's third-party ones from the store.
func (a *Agent) sources() ([]catalog.Source, error) {
	out := slices.Clone(a.cfg.Sources)
	recs, err := a.store.Catalogs()
	if err != nil {
		return nil, fmt.Errorf("read catalogs: %w", err)
	}
	for _, r := range recs {
		if !r.ThirdParty {
			continue
		}
		src := catalog.Source{ID: r.ID, Title: r.Title, URL: r.URL, Trust: catalog.Trust{Threshold: 1}}
		for _, k := range r.Keys {
			src.Trust.Keys = append(src.Trust.Keys, catalog.Key{ID: k.ID, Public: ed25519.PublicKey(k.Public)})
		}
		out = append(out, src)
	}
	return out, nil
}

// loadCatalogs loads each source's last good envelope from the store, then
// the copy built in, which replaces it only when it is newer (a refreshed
// catalog from the URL usually is newer than the one built in).
func (a *Agent) loadCatalogs() error {
	srcs, err := a.sources()
	if err != nil {
		return err
	}
	for _, src := range srcs {
		rec, err := a.store.Catalog(src.ID)
		switch {
		case err == nil && len(rec.Envelope) > 0:
			if err := a.catalogs.Load(src, rec.Envelope, nil); err != nil {
				a.log.Warn("stored catalog refused", "catalog", src.ID, "err", err)
			}
		case err == nil || errors.Is(err, state.ErrNotFound):
		default:
			return fmt.Errorf("catalog %s: %w", src.ID, err)
		}
		env, ok := a.builtIn(src.ID)
		if !ok {
			continue
		}
		var held *catalog.Held
		if c, ok := a.catalogs.Catalog(src.ID); ok {
			h := c.Held()
			held = &h
		}
		err = a.catalogs.Load(src, env, held)
		switch {
		case err == nil:
			if err := a.remember(src, env, ""); err != nil {
				return err
			}
		case held != nil && errors.Is(err, catalog.ErrRollback):
			// what the store holds is newer
		case held != nil:
			a.log.Warn("built-in catalog refused; keeping the stored one", "catalog", src.ID, "err", err)
		default:
			return fmt.Errorf("built-in catalog %s: %w", src.ID, err)
		}
	}
	return nil
}

func (a *Agent) builtIn(id string) ([]byte, bool) {
	env, ok := a.cfg.BuiltIn[id]
	return env, ok
}

// remember stores the good envelope of a source (or the refusal reason).
func (a *Agent) remember(src catalog.Source, env []byte, lastErr string) error {
	rec, err := a.store.Catalog(src.ID)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	rec.ID, rec.Title, rec.URL = src.ID, src.Title, src.URL
	rec.Official = src.Official
	rec.LastRefresh = a.cfg.Now()
	rec.LastError = lastErr
	if len(rec.Keys) == 0 {
		for _, k := range src.Trust.Keys {
			rec.Keys = append(rec.Keys, state.KeyRecord{ID: k.ID, Public: k.Public})
		}
	}
	if env != nil {
		for _, c := range a.catalogs.Catalogs() {
			if c.ID == src.ID {
				rec.Envelope, rec.Timestamp, rec.Digest = env, c.Timestamp, c.Digest
			}
		}
	}
	return a.store.PutCatalog(rec)
}

// localCatalog is the catalog id of apps installed from no catalog.
const localCatalog = "local"

// releaseFor is release, or, for a manifest given by the owner (an imported
// compose project), that manifest.
func (a *Agent) releaseFor(catalogID, appID, version string, raw json.RawMessage) (release, error) {
	if len(raw) == 0 {
		return a.release(catalogID, appID, version)
	}
	m, err := manifest.Parse(raw)
	if err != nil {
		return release{}, fmt.Errorf("manifest: %w: %w", err, api.ErrInvalid)
	}
	if m.ID != appID {
		return release{}, fmt.Errorf("manifest: id %q is not the app %q: %w", m.ID, appID, api.ErrInvalid)
	}
	return release{Catalog: localCatalog, Version: m.Version, Raw: raw, Manifest: m}, nil
}

// release finds an app's version: in the named catalog, or the first that
// has the app (the official catalog first); version "" is the latest.
func (a *Agent) release(catalogID, appID, version string) (release, error) {
	cats := a.catalogs.Catalogs()
	sort.SliceStable(cats, func(i, j int) bool { return cats[i].Official && !cats[j].Official })
	for _, c := range cats {
		if catalogID != "" && c.ID != catalogID {
			continue
		}
		app, ok := c.App(appID)
		if !ok {
			continue
		}
		v := app.Latest()
		if version != "" {
			if v, ok = app.Version(version); !ok {
				return release{}, notFound("app %s has no version %s in catalog %s", appID, version, c.ID)
			}
		}
		return release{Catalog: c.ID, Version: v.Version, Raw: v.ManifestJSON, Manifest: v.Manifest}, nil
	}
	if catalogID != "" {
		return release{}, notFound("app %s in catalog %s", appID, catalogID)
	}
	return release{}, notFound("app %s in any catalog", appID)
}

// Catalogs lists the catalogs the box follows.
func (a *Agent) Catalogs(_ context.Context) ([]api.Catalog, error) {
	recs, err := a.store.Catalogs()
	if err != nil {
		return nil, err
	}
	byID := map[string]state.CatalogRecord{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	srcs, err := a.sources()
	if err != nil {
		return nil, err
	}
	var out []api.Catalog
	for _, src := range srcs {
		r := byID[src.ID]
		c := api.Catalog{ID: src.ID, Title: src.Title, URL: src.URL, Official: src.Official, ThirdParty: r.ThirdParty,
			LastRefresh: r.LastRefresh, LastError: r.LastError}
		for _, cat := range a.catalogs.Catalogs() {
			if cat.ID == src.ID {
				c.Timestamp, c.Expires, c.Apps = cat.Timestamp, cat.Expires, len(cat.Apps)
				if c.Title == "" {
					c.Title = cat.Title
				}
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// RefreshCatalogs fetches the catalogs with a URL (one, or all for id ""),
// keeping the last good one of each that is refused, with the reason.
func (a *Agent) RefreshCatalogs(ctx context.Context, id string) ([]api.Catalog, error) {
	srcs, err := a.sources()
	if err != nil {
		return nil, err
	}
	found := false
	var errs []error
	for _, src := range srcs {
		if id != "" && src.ID != id {
			continue
		}
		found = true
		if src.URL == "" {
			continue
		}
		var held *catalog.Held
		for _, c := range a.catalogs.Catalogs() {
			if c.ID == src.ID {
				h := c.Held()
				held = &h
			}
		}
		env, err := a.catalogs.Refresh(ctx, src, held)
		if err != nil {
			errs = append(errs, fmt.Errorf("catalog %s: %w", src.ID, err))
			a.activity(api.ActorFrom(ctx), "", "catalog-refresh", "refused", fmt.Sprintf("%s: %v", src.ID, err))
			if rerr := a.remember(src, nil, err.Error()); rerr != nil {
				errs = append(errs, rerr)
			}
			continue
		}
		if err := a.remember(src, env, ""); err != nil {
			errs = append(errs, err)
		}
		a.activity(api.ActorFrom(ctx), "", "catalog-refresh", "done", src.ID)
	}
	if !found {
		return nil, notFound("catalog %s", id)
	}
	cats, err := a.Catalogs(ctx)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return cats, fmt.Errorf("%w: %w", errors.Join(errs...), api.ErrRefused)
	}
	return cats, nil
}

// AddCatalog follows a third-party catalog, signed with its own key.
func (a *Agent) AddCatalog(ctx context.Context, req api.AddCatalogRequest) (api.Catalog, error) {
	pub, err := base64.StdEncoding.DecodeString(req.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return api.Catalog{}, fmt.Errorf("publicKey: must be a base64 ed25519 public key: %w", api.ErrInvalid)
	}
	src := catalog.Source{ID: req.ID, Title: req.Title, URL: req.URL,
		Trust: catalog.Trust{Keys: []catalog.Key{{ID: catalog.KeyID(pub), Public: pub}}, Threshold: 1}}
	srcs, err := a.sources()
	if err != nil {
		return api.Catalog{}, err
	}
	for _, s := range srcs {
		if s.ID == req.ID {
			return api.Catalog{}, fmt.Errorf("catalog %s exists: %w", req.ID, api.ErrInvalid)
		}
	}
	env, err := a.catalogs.Refresh(ctx, src, nil)
	if errors.Is(err, catalog.ErrInvalidSource) {
		return api.Catalog{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	if err != nil {
		return api.Catalog{}, fmt.Errorf("catalog %s: %w: %w", req.ID, err, api.ErrRefused)
	}
	rec := state.CatalogRecord{ID: src.ID, Title: src.Title, URL: src.URL, ThirdParty: true,
		Keys: []state.KeyRecord{{ID: catalog.KeyID(pub), Public: pub}}, LastRefresh: a.cfg.Now()}
	if err := a.store.PutCatalog(rec); err != nil {
		return api.Catalog{}, err
	}
	if err := a.remember(src, env, ""); err != nil {
		return api.Catalog{}, err
	}
	a.activity(api.ActorFrom(ctx), "", "catalog-add", "done", req.ID)
	cats, err := a.Catalogs(ctx)
	if err != nil {
		return api.Catalog{}, err
	}
	for _, c := range cats {
		if c.ID == req.ID {
			return c, nil
		}
	}
	return api.Catalog{}, notFound("catalog %s", req.ID)
}

// RemoveCatalog stops following a third-party catalog. Apps installed from
// it stay; they get no updates.
func (a *Agent) RemoveCatalog(ctx context.Context, id string) error {
	rec, err := a.store.Catalog(id)
	if errors.Is(err, state.ErrNotFound) {
		return notFound("catalog %s", id)
	}
	if err != nil {
		return err
	}
	if !rec.ThirdParty {
		return fmt.Errorf("catalog %s is built in and cannot be removed: %w", id, api.ErrInvalid)
	}
	if err := a.store.DeleteCatalog(id); err != nil {
		return err
	}
	a.catalogs.Remove(id)
	a.activity(api.ActorFrom(ctx), "", "catalog-remove", "done", id)
	return nil
}

// CatalogApps lists the apps the catalogs offer.
func (a *Agent) CatalogApps(_ context.Context, catalogID string) ([]api.CatalogApp, error) {
	installed := map[string]bool{}
	apps, err := a.store.Apps()
	if err != nil {
		return nil, err
	}
	for _, app := range apps {
		installed[app.ID] = true
	}
	var out []api.CatalogApp
	found := catalogID == ""
	for _, c := range a.catalogs.Catalogs() {
		if catalogID != "" && c.ID != catalogID {
			continue
		}
		found = true
		for _, app := range c.Apps {
			v := app.Latest()
			if v.Manifest == nil {
				continue
			}
			m := v.Manifest
			ca := api.CatalogApp{ID: app.ID, Catalog: c.ID, ThirdParty: !c.Official && !a.isBuiltIn(c.ID), Title: m.Title,
				Tagline: m.Tagline, Category: m.Category, Version: v.Version, Platforms: m.Platforms(),
				MemoryMin: int64(m.Resources.MemoryMin), Installed: installed[app.ID]}
			for _, ver := range app.Versions {
				ca.Versions = append(ca.Versions, ver.Version)
			}
			for _, p := range m.Permissions {
				ca.Permissions = append(ca.Permissions, string(p))
			}
			out = append(out, ca)
		}
	}
	if !found {
		return nil, notFound("catalog %s", catalogID)
	}
	return out, nil
}

func (a *Agent) isBuiltIn(id string) bool {
	for _, s := range a.cfg.Sources {
		if s.ID == id {
			return true
		}
	}
	return false
}
