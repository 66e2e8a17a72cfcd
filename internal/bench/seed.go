package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/internal/samplecatalog"
)

// The app the agent benchmark installs, and the version.
const (
	seedApp     = "hello"
	seedVersion = "1.0.0"
)

// installSeed adds the sample catalog to a running hearthd through its API
// (served once over loopback HTTP, as a third-party catalog with its own
// key) and installs the sample app from it, the way an owner would.
func installSeed(ctx context.Context, client *api.Client, samples *samplecatalog.Samples) error {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/samples.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(samples.Envelope)
	}))
	defer srv.Close()
	if len(samples.Source.Trust.Keys) != 1 {
		return fmt.Errorf("sample catalog: %d keys, want 1", len(samples.Source.Trust.Keys))
	}
	_, err := client.AddCatalog(ctx, api.AddCatalogRequest{
		ID:        samples.Source.ID,
		URL:       srv.URL + "/samples.json",
		PublicKey: base64.StdEncoding.EncodeToString(samples.Source.Trust.Keys[0].Public),
		Title:     samples.Source.Title,
	})
	if err != nil {
		return fmt.Errorf("add the sample catalog: %w", err)
	}
	op, err := client.Install(ctx, api.InstallRequest{App: seedApp, Catalog: samples.Source.ID, Version: seedVersion})
	if err != nil {
		return fmt.Errorf("install %s %s: %w", seedApp, seedVersion, err)
	}
	if op, err = waitOperation(ctx, client, op.ID); err != nil {
		return fmt.Errorf("install %s %s: %w", seedApp, seedVersion, err)
	}
	if op.State != "done" {
		return fmt.Errorf("install %s %s: operation %s ended %s: %s", seedApp, seedVersion, op.ID, op.State, op.Error)
	}
	return nil
}

// waitOperation polls an operation until it ends.
func waitOperation(ctx context.Context, client *api.Client, id string) (api.Operation, error) {
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		op, err := client.Operation(ctx, id)
		if err != nil {
			return op, err
		}
		if op.State != "running" {
			return op, nil
		}
		select {
		case <-ctx.Done():
			return op, fmt.Errorf("operation %s still running: %w", id, ctx.Err())
		case <-ticker.C:
		}
	}
}

// cloneIDs names the copies that grow the box from have to want apps: the
// original is "hello", the copies "hello-2" … "hello-<want>".
func cloneIDs(have, want int) []string {
	var ids []string
	for i := max(have, 1) + 1; i <= want; i++ {
		ids = append(ids, fmt.Sprintf("%s-%d", seedApp, i))
	}
	return ids
}

// cloneApps copies the record of app from into one new record per id, in
// one transaction of the state file at path, which no hearthd may hold
// open. The copies have the same manifest, images, settings and secrets
// (a benchmark's apps need not differ) and are wanted running; the reconcile
// loop of the next hearthd creates their networks and containers.
func cloneApps(path, from string, ids []string) error {
	store, err := state.Open(path, state.Options{Timeout: 10 * time.Second})
	if err != nil {
		return fmt.Errorf("clone apps: %w", err)
	}
	err = store.Update(func(tx *state.Tx) error {
		src, err := tx.App(from)
		if err != nil {
			return err
		}
		for _, id := range ids {
			c := src
			c.ID = id
			c.Wanted = state.WantRunning
			c.Installed = time.Time{}
			c.Settings = maps.Clone(src.Settings)
			c.Secrets = maps.Clone(src.Secrets)
			c.Images = maps.Clone(src.Images)
			c.Manifest = slices.Clone(src.Manifest)
			if err := tx.PutApp(c); err != nil {
				return fmt.Errorf("app %s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("clone apps: %w", err)
	}
	return errors.Join(err, store.Close())
}

// allHealthy reports whether apps are exactly n apps, each "healthy", and
// otherwise sums up what they are, for an error message.
func allHealthy(apps []api.App, n int) (bool, string) {
	count := map[string]int{}
	for _, a := range apps {
		count[a.State]++
	}
	if len(apps) == n && count["healthy"] == n {
		return true, ""
	}
	parts := []string{fmt.Sprintf("%d of %d apps", len(apps), n)}
	for _, s := range slices.Sorted(maps.Keys(count)) {
		parts = append(parts, fmt.Sprintf("%d %s", count[s], s))
	}
	return false, strings.Join(parts, ", ")
}
