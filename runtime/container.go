package rt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/distribution/reference"

	"github.com/hearthbox/hearth/runtime/logfile"
)

const defaultStopTimeout = 10 * time.Second

// Ensure makes the container described by s exist: it creates it, or
// replaces it (stopping the old one) when the spec changed since it was made,
// and does nothing when the spec is the same. It does not start it. The
// image must have been pulled. changed says whether anything was done.
func (c *Client) Ensure(ctx context.Context, s ContainerSpec) (info ContainerInfo, changed bool, err error) {
	if err := s.Validate(c.cfg.DataRoot); err != nil {
		return ContainerInfo{}, false, fmt.Errorf("container %q: %w", s.ID, err)
	}
	ctx = c.ns(ctx)
	defer c.lock(s.ID)()
	hash := SpecHash(s)

	existing, err := c.ctd.LoadContainer(ctx, s.ID)
	switch {
	case err == nil:
		labels, err := existing.Labels(ctx)
		if err != nil {
			return ContainerInfo{}, false, fmt.Errorf("container %s: %w", s.ID, err)
		}
		if labels[labelManaged] != "true" {
			return ContainerInfo{}, false, fmt.Errorf("container %s: %w", s.ID, ErrContainerExists)
		}
		if labels[labelHash] == hash {
			info, err := c.inspect(ctx, existing)
			return info, false, err
		}
		if err := c.removeLocked(ctx, existing, false); err != nil {
			return ContainerInfo{}, false, fmt.Errorf("replace container %s: %w", s.ID, err)
		}
	case !errdefs.IsNotFound(err):
		return ContainerInfo{}, false, fmt.Errorf("container %s: %w", s.ID, err)
	}

	if err := c.create(ctx, s, hash); err != nil {
		return ContainerInfo{}, false, err
	}
	ctr, err := c.ctd.LoadContainer(ctx, s.ID)
	if err != nil {
		return ContainerInfo{}, true, fmt.Errorf("container %s: %w", s.ID, err)
	}
	info, err = c.inspect(ctx, ctr)
	return info, true, err
}

// create makes the container, and on any failure removes what it made.
func (c *Client) create(ctx context.Context, s ContainerSpec, hash string) (err error) {
	img, err := c.localImage(ctx, s.Image)
	if err != nil {
		return err
	}
	ispec, err := img.Spec(ctx)
	if err != nil {
		return fmt.Errorf("container %s: read image config: %w", s.ID, err)
	}
	dir := c.containerDir(s.ID)
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
			if rerr := c.ctd.SnapshotService(c.cfg.Snapshotter).Remove(ctx, s.ID); rerr != nil && !errdefs.IsNotFound(rerr) {
				c.log.Warn("remove snapshot after failed create", "container", s.ID, "err", rerr)
			}
		}
	}()
	// A crash between snapshot and container leaves a snapshot behind.
	if rerr := c.ctd.SnapshotService(c.cfg.Snapshotter).Remove(ctx, s.ID); rerr != nil && !errdefs.IsNotFound(rerr) {
		return fmt.Errorf("container %s: remove stale snapshot: %w", s.ID, rerr)
	}
	owner := s.User
	if owner == "" {
		owner = ispec.Config.User
	}
	paths, err := c.prepareFiles(ctx, s, owner)
	if err != nil {
		return err
	}
	opts, err := specOpts(s, ispec.Config, withDefaults(s.Resources, c.cfg.Defaults), paths)
	if err != nil {
		return fmt.Errorf("container %q: %w", s.ID, err)
	}
	if u := imageUserByName(s, ispec.Config); u != "" {
		opts = append(opts, oci.WithUser(u))
	}
	opts = append(opts, withTmpfsOwnedByUser)
	labels := map[string]string{}
	maps.Copy(labels, s.Labels)
	labels[labelManaged] = "true"
	labels[labelGroup] = s.Group
	labels[labelHash] = hash
	labels[labelNetwork] = s.Network
	if s.HostNetwork {
		labels[labelHostNetwork] = "true"
	}
	_, err = c.ctd.NewContainer(ctx, s.ID,
		containerd.WithImage(img),
		containerd.WithSnapshotter(c.cfg.Snapshotter),
		containerd.WithNewSnapshot(s.ID, img),
		containerd.WithNewSpec(opts...),
		containerd.WithContainerLabels(labels),
	)
	if err != nil {
		return fmt.Errorf("create container %s: %w", s.ID, err)
	}
	return nil
}

// localImage finds a pulled image by the pinned reference of a spec: the
// pinned digest is what runs, even if the tag has moved since. A tag that is
// present locally with another digest than the one pinned is refused.
func (c *Client) localImage(ctx context.Context, ref string) (containerd.Image, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadReference, ref, err)
	}
	d, ok := named.(reference.Digested)
	if !ok {
		return nil, fieldErr("image", "%q has no digest", ref)
	}
	pinned, err := reference.WithDigest(reference.TrimNamed(named), d.Digest())
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadReference, ref, err)
	}
	img, err := c.ctd.GetImage(ctx, pinned.String())
	if err == nil {
		return img, nil
	}
	if !errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	if tagged, ok := named.(reference.Tagged); ok {
		tagRef, _ := reference.WithTag(reference.TrimNamed(named), tagged.Tag())
		if img, err := c.ctd.GetImage(ctx, tagRef.String()); err == nil && img.Target().Digest != d.Digest() {
			return nil, fmt.Errorf("image %s: %w: the pulled %s is %s", ref, ErrDigestMismatch, tagRef, img.Target().Digest)
		}
	}
	return nil, fmt.Errorf("image %s: %w", ref, ErrImageNotPulled)
}

// prepareFiles makes the volume folders under DataDir and the container's
// resolv.conf, hosts and hostname files, and saves the spec.
func (c *Client) prepareFiles(_ context.Context, s ContainerSpec, owner string) (hostPaths, error) {
	var p hostPaths
	if err := os.MkdirAll(s.DataDir, 0o750); err != nil {
		return p, fmt.Errorf("container %s: data folder: %w", s.ID, err)
	}
	for i, v := range s.Volumes {
		host, err := securejoin.SecureJoin(s.DataDir, v.Source)
		if err != nil {
			return p, fieldErr(fmt.Sprintf("volumes[%d].source", i), "%q: %v", v.Source, err)
		}
		if err := os.MkdirAll(host, 0o750); err != nil {
			return p, fmt.Errorf("container %s: volume %s: %w", s.ID, v.Source, err)
		}
		// The folder must belong to the container's user to be writable.
		if uid, gid, ok := numericUser(owner); ok {
			if err := os.Lchown(host, int(uid), int(gid)); err != nil {
				return p, fmt.Errorf("container %s: volume %s: %w", s.ID, v.Source, err)
			}
		}
		p.Volumes = append(p.Volumes, host)
	}
	for i, m := range s.HostMounts {
		if _, err := os.Stat(m.Source); err != nil {
			return p, fieldErr(fmt.Sprintf("hostMounts[%d].source", i), "%q: %v", m.Source, err)
		}
	}
	dir := c.containerDir(s.ID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return p, fmt.Errorf("container %s: %w", s.ID, err)
	}
	if len(s.Files) > 0 {
		fdir := filepath.Join(dir, "files")
		if err := os.MkdirAll(fdir, 0o755); err != nil {
			return p, fmt.Errorf("container %s: %w", s.ID, err)
		}
		for i, f := range s.Files {
			name := filepath.Join(fdir, strconv.Itoa(i))
			// Read-only for everyone: the container's user may be any.
			if err := writeReadOnly(name, []byte(f.Content)); err != nil {
				return p, fmt.Errorf("container %s: file %s: %w", s.ID, f.Target, err)
			}
			p.Files = append(p.Files, name)
		}
	}
	hostname := s.Hostname
	if hostname == "" && len(s.Names) > 0 {
		hostname = s.Names[0]
	}
	if hostname == "" {
		hostname = s.ID
	}
	resolv := []byte{}
	if s.HostNetwork {
		b, err := os.ReadFile(hostResolvConf)
		if err != nil {
			return p, fmt.Errorf("container %s: the host's resolver: %w", s.ID, err)
		}
		resolv = b
	}
	if s.Network != "" {
		b, err := c.net.ResolvConf(s.Network)
		if err != nil {
			return p, fieldErr("network", "%q: %v", s.Network, err)
		}
		resolv = b
		p.NetNS = c.netnsPath(s.ID)
	}
	files := []struct {
		name string
		data []byte
		dst  *string
	}{
		{"resolv.conf", resolv, &p.ResolvConf},
		{"hosts", hostsFile(hostname), &p.Hosts},
		{"hostname", []byte(hostname + "\n"), &p.Hostname},
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			return p, fmt.Errorf("container %s: %w", s.ID, err)
		}
		*f.dst = path
	}
	b, err := json.Marshal(s)
	if err != nil {
		return p, fmt.Errorf("container %s: %w", s.ID, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "spec.json"), b, 0o600); err != nil {
		return p, fmt.Errorf("container %s: %w", s.ID, err)
	}
	return p, nil
}

// hostResolvConf is the host's resolver configuration, which a container
// on the host's network uses.
const hostResolvConf = "/etc/resolv.conf"

// writeReadOnly replaces name with a file of mode 0444 holding data.
func writeReadOnly(name string, data []byte) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.WriteFile(name, data, 0o444); err != nil {
		return err
	}
	return os.Chmod(name, 0o444) // whatever the umask
}

func numericUser(u string) (uint32, uint32, bool) {
	if u == "" || !userPattern.MatchString(u) {
		return 0, 0, false
	}
	uid, gid, err := parseUser(u)
	return uid, gid, err == nil
}

func (c *Client) netnsPath(id string) string {
	return filepath.Join(c.cfg.Network.StateDir, "netns", id)
}

// savedSpec reads the spec a container was made from.
func (c *Client) savedSpec(id string) (ContainerSpec, error) {
	var s ContainerSpec
	b, err := os.ReadFile(filepath.Join(c.containerDir(id), "spec.json"))
	if err != nil {
		return s, fmt.Errorf("container %s: saved spec: %w", id, err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("container %s: saved spec: %w", id, err)
	}
	return s, nil
}

// Start starts a container's task, attaching it to its network first. A
// running container is left alone.
func (c *Client) Start(ctx context.Context, id string) (ContainerInfo, error) {
	ctx = c.ns(ctx)
	defer c.lock(id)()
	ctr, err := c.load(ctx, id)
	if err != nil {
		return ContainerInfo{}, err
	}
	s, err := c.savedSpec(id)
	if err != nil {
		return ContainerInfo{}, err
	}
	if task, err := ctr.Task(ctx, nil); err == nil {
		st, err := task.Status(ctx)
		if err != nil {
			return ContainerInfo{}, fmt.Errorf("container %s: %w", id, err)
		}
		if st.Status == containerd.Running || st.Status == containerd.Paused {
			return c.inspect(ctx, ctr)
		}
		if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			return ContainerInfo{}, fmt.Errorf("container %s: delete old task: %w", id, err)
		}
	}
	if err := c.startTask(ctx, ctr, s); err != nil {
		return ContainerInfo{}, err
	}
	return c.inspect(ctx, ctr)
}

func (c *Client) startTask(ctx context.Context, ctr containerd.Container, s ContainerSpec) (err error) {
	if s.Network != "" {
		att, err := c.net.Attach(ctx, s.Network, s.ID, s.Names)
		if err != nil {
			return fmt.Errorf("container %s: attach to network %s: %w", s.ID, s.Network, err)
		}
		defer func() {
			if err != nil {
				if derr := c.net.Detach(context.WithoutCancel(ctx), s.ID); derr != nil {
					c.log.Warn("detach after failed start", "container", s.ID, "err", derr)
				}
			}
		}()
		if att.NetNS != c.netnsPath(s.ID) {
			return fmt.Errorf("container %s: network namespace at %s, want %s", s.ID, att.NetNS, c.netnsPath(s.ID))
		}
	}
	c.setOOM(s.ID, false)
	c.clearExit(s.ID)
	task, err := ctr.NewTask(ctx, cio.BinaryIO(c.cfg.LogDriver, logfile.DriverArgs(c.logDir(), c.cfg.LogMaxBytes, c.cfg.LogMaxFiles)))
	if err != nil {
		return fmt.Errorf("container %s: create task: %w", s.ID, err)
	}
	if err := task.Start(ctx); err != nil {
		if _, derr := task.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill); derr != nil {
			c.log.Warn("delete task after failed start", "container", s.ID, "err", derr)
		}
		return fmt.Errorf("container %s: start: %w", s.ID, err)
	}
	c.watchHealth(ctx, s)
	return nil
}

// Stop sends SIGTERM, waits up to timeout (0: the spec's StopTimeout, or
// 10 s), then kills every process of the container. The container stays, its
// network attachment goes.
func (c *Client) Stop(ctx context.Context, id string, timeout time.Duration) error {
	ctx = c.ns(ctx)
	defer c.lock(id)()
	ctr, err := c.load(ctx, id)
	if err != nil {
		return err
	}
	return c.stopLocked(ctx, ctr, timeout)
}

func (c *Client) stopLocked(ctx context.Context, ctr containerd.Container, timeout time.Duration) error {
	id := ctr.ID()
	c.hm.Unwatch(id)
	if timeout <= 0 {
		timeout = defaultStopTimeout
		if s, err := c.savedSpec(id); err == nil && s.StopTimeout > 0 {
			timeout = s.StopTimeout
		}
	}
	task, err := ctr.Task(ctx, nil)
	switch {
	case errdefs.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("container %s: %w", id, err)
	default:
		if err := stopTask(ctx, task, timeout); err != nil {
			return fmt.Errorf("container %s: stop: %w", id, err)
		}
	}
	if err := c.net.Detach(ctx, id); err != nil {
		return fmt.Errorf("container %s: detach: %w", id, err)
	}
	return nil
}

func stopTask(ctx context.Context, task containerd.Task, timeout time.Duration) error {
	st, err := task.Status(ctx)
	if err != nil {
		return err
	}
	if st.Status == containerd.Running || st.Status == containerd.Paused {
		wait, err := task.Wait(ctx)
		if err != nil {
			return err
		}
		if st.Status == containerd.Paused {
			_ = task.Resume(ctx)
		}
		if err := task.Kill(ctx, syscall.SIGTERM); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		select {
		case <-wait:
		case <-timer.C:
			if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
				return err
			}
			select {
			case <-wait:
			case <-ctx.Done():
				return ctx.Err()
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	return nil
}

// Remove stops a container and deletes it with its snapshot, network
// attachment, files and logs. Its data folder stays. A missing container is
// not an error.
func (c *Client) Remove(ctx context.Context, id string) error {
	ctx = c.ns(ctx)
	defer c.lock(id)()
	ctr, err := c.ctd.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return errors.Join(c.net.Detach(ctx, id), os.RemoveAll(c.containerDir(id)), c.removeLogs(id))
	}
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	return c.removeLocked(ctx, ctr, true)
}

func (c *Client) removeLocked(ctx context.Context, ctr containerd.Container, logs bool) error {
	id := ctr.ID()
	if err := c.stopLocked(ctx, ctr, 0); err != nil {
		return err
	}
	if err := ctr.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("container %s: delete: %w", id, err)
	}
	c.setOOM(id, false)
	errs := []error{os.RemoveAll(c.containerDir(id))}
	if logs {
		errs = append(errs, c.removeLogs(id))
	}
	return errors.Join(errs...)
}

func (c *Client) removeLogs(id string) error {
	base := logfile.Path(c.logDir(), id)
	matches, _ := filepath.Glob(base + "*")
	var errs []error
	for _, m := range matches {
		if m == base || (len(m) > len(base) && m[len(base)] == '.') {
			errs = append(errs, os.Remove(m))
		}
	}
	return errors.Join(errs...)
}

func (c *Client) load(ctx context.Context, id string) (containerd.Container, error) {
	ctr, err := c.ctd.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("container %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	return ctr, nil
}
