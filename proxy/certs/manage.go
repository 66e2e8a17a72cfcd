package certs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"

	"github.com/caddyserver/certmagic"
)

// Manage makes names the full set of names with certificates: new names
// start being loaded from storage or obtained in the background, names no
// longer listed stop being served and renewed. It is idempotent: names
// already managed are left alone, and no certificate is asked for twice.
// A name covered by a managed wildcard ("x.d" with "*.d") is served by the
// wildcard's certificate and gets none of its own. Manage returns once the
// work has started; Status tells how it goes. When a name is invalid nothing
// changes and the error names it (names[i]).
func (m *Manager) Manage(ctx context.Context, names []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	want := map[string]bool{}
	lan := map[string]bool{}
	for i, n := range names {
		n = normalize(n)
		isLAN, err := m.classify(fmt.Sprintf("names[%d]", i), n)
		if err != nil {
			return err
		}
		want[n] = true
		lan[n] = isLAN
	}

	m.manageMu.Lock()
	defer m.manageMu.Unlock()
	if err := m.ctx.Err(); err != nil {
		return fmt.Errorf("manager closed: %w", err)
	}

	// Stop what is no longer wanted (or wanted differently), and wait for
	// its background work to end before unloading its certificate, so that
	// nothing loads it again behind our back.
	m.mu.Lock()
	var stopped []*entry
	var removed []certmagic.SubjectIssuer
	for n, e := range m.managed {
		if want[n] && e.lan == lan[n] && e.coveredBy == coveringWildcard(n, want) {
			continue
		}
		if e.cancel != nil {
			e.cancel()
			stopped = append(stopped, e)
			removed = append(removed, certmagic.SubjectIssuer{Subject: n})
		}
		delete(m.managed, n)
		delete(m.status, n)
	}
	m.mu.Unlock()
	for _, e := range stopped {
		<-e.done
	}
	// Unloaded certificates stay in storage, to be reused if the name
	// comes back.
	m.cache.RemoveManaged(removed)

	m.mu.Lock()
	defer m.mu.Unlock()
	var added []string
	for n := range want {
		if _, ok := m.managed[n]; !ok {
			added = append(added, n)
		}
	}
	sort.Strings(added)
	for _, n := range added {
		e := &entry{lan: lan[n], coveredBy: coveringWildcard(n, want)}
		m.managed[n] = e
		if e.coveredBy != "" {
			continue
		}
		cfg := m.lan
		if !e.lan {
			cfg = m.acme
		}
		var nctx context.Context
		nctx, e.cancel = context.WithCancel(m.ctx)
		e.done = make(chan struct{})
		m.wg.Go(func() {
			defer close(e.done)
			m.run(nctx, cfg, n)
		})
	}
	if len(added) > 0 || len(removed) > 0 {
		m.log.Info("managed names changed", "added", added, "removed", len(removed), "total", len(m.managed))
	}
	return nil
}

// run loads name's certificate from storage, or obtains it with certmagic's
// retries and backoff (1 minute, growing to 6 hours, for up to 30 days),
// and puts it in the cache, whose maintenance renews it from then on. It
// returns when that is done or ctx ends.
func (m *Manager) run(ctx context.Context, cfg *certmagic.Config, name string) {
	cert, err := cfg.CacheManagedCertificate(ctx, name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err = cfg.ObtainCertAsync(ctx, name); err == nil {
			_, err = cfg.CacheManagedCertificate(ctx, name)
		}
	case err == nil && cert.NeedsRenewal(cfg):
		// Stored but due (the box was off): renew before serving it long.
		if err = cfg.RenewCertAsync(ctx, name, false); err == nil {
			m.cache.RemoveManaged([]certmagic.SubjectIssuer{{Subject: name}})
			_, err = cfg.CacheManagedCertificate(ctx, name)
		}
	}
	if err != nil && ctx.Err() == nil {
		m.fail(name, err)
	}
}
