package rt

import (
	"context"
	"errors"
	"fmt"
	"strings"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/errdefs"
)

// recover re-attaches to the containers of a previous process: running ones
// keep running and get their health checks back; network attachments and
// snapshots that no live container owns (left by a crash) are removed.
func (c *Client) recover(ctx context.Context) error {
	ctrs, err := c.ctd.Containers(ctx)
	if err != nil {
		return fmt.Errorf("recover: list containers: %w", err)
	}
	live := map[string]bool{}
	all := map[string]bool{}
	for _, ctr := range ctrs {
		all[ctr.ID()] = true
		task, err := ctr.Task(ctx, nil)
		if err != nil {
			continue
		}
		st, err := task.Status(ctx)
		if err != nil || (st.Status != containerd.Running && st.Status != containerd.Paused) {
			continue
		}
		live[ctr.ID()] = true
	}
	var errs []error
	if err := c.net.Cleanup(ctx, func(id string) bool { return live[id] }); err != nil {
		errs = append(errs, fmt.Errorf("recover: networks: %w", err))
	}
	for id := range live {
		if s, err := c.savedSpec(id); err == nil {
			c.watchHealth(ctx, s)
		}
	}
	errs = append(errs, c.removeOrphanSnapshots(ctx, all))
	return errors.Join(errs...)
}

// removeOrphanSnapshots deletes active snapshots whose container does not
// exist: a crash between making a snapshot and its container leaves one.
func (c *Client) removeOrphanSnapshots(ctx context.Context, containers map[string]bool) error {
	sn := c.ctd.SnapshotService(c.cfg.Snapshotter)
	var orphans []string
	err := sn.Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if info.Kind == snapshots.KindActive && !containers[info.Name] && !strings.HasPrefix(info.Name, "extract-") {
			orphans = append(orphans, info.Name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recover: snapshots: %w", err)
	}
	var errs []error
	for _, o := range orphans {
		if err := sn.Remove(ctx, o); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("recover: remove snapshot %s: %w", o, err))
		}
	}
	return errors.Join(errs...)
}

// PruneImages deletes the images that no container uses; containerd's
// garbage collector then frees their content and snapshots. It returns the
// names deleted.
func (c *Client) PruneImages(ctx context.Context) ([]string, error) {
	ctx = c.ns(ctx)
	ctrs, err := c.ctd.Containers(ctx)
	if err != nil {
		return nil, fmt.Errorf("prune images: %w", err)
	}
	used := map[string]bool{}
	for _, ctr := range ctrs {
		info, err := ctr.Info(ctx, containerd.WithoutRefreshedMetadata)
		if err != nil {
			continue
		}
		used[info.Image] = true
	}
	is := c.ctd.ImageService()
	imgs, err := is.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("prune images: %w", err)
	}
	usedDigests := map[string]bool{}
	for _, img := range imgs {
		if used[img.Name] {
			usedDigests[img.Target.Digest.String()] = true
		}
	}
	var deleted []string
	var errs []error
	for _, img := range imgs {
		if usedDigests[img.Target.Digest.String()] {
			continue
		}
		// Synchronous: the content is gone when PruneImages returns.
		if err := is.Delete(ctx, img.Name, images.SynchronousDelete()); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete image %s: %w", img.Name, err))
			continue
		}
		deleted = append(deleted, img.Name)
	}
	return deleted, errors.Join(errs...)
}
