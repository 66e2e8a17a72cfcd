package rt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// PullOptions tune Pull.
type PullOptions struct {
	// Platform is "os/arch[/variant]"; default the host's.
	Platform string
	// Credentials returns the login for a registry host, or ok=false.
	Credentials func(host string) (Credentials, bool)
	// Progress receives the bytes fetched per layer while the pull runs,
	// from the pulling goroutine's helper: it must not block for long.
	Progress func(PullProgress)
}

// Image is a pulled image.
type Image struct {
	// Ref is the pinned reference: "repo:tag@sha256:..." (or "repo@sha256:...").
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
	// Size is the size of the image's content for this platform.
	Size int64 `json:"size"`
}

// Pull fetches an image into containerd and unpacks it for the snapshotter.
// A reference with a digest is pulled by that digest, and content that does
// not match it is refused; one without is resolved once and the digest found
// is returned, pinned, in Image.Ref. Plain HTTP is used only for loopback
// registries.
func (c *Client) Pull(ctx context.Context, ref string, opts PullOptions) (Image, error) {
	ctx = c.ns(ctx)
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return Image{}, fmt.Errorf("%w %q: %v", ErrBadReference, ref, err)
	}
	platform := opts.Platform
	if platform == "" {
		platform = platforms.DefaultString()
	}
	if _, err := platforms.Parse(platform); err != nil {
		return Image{}, fieldErr("platform", "%q: %v", platform, err)
	}
	resolver := c.resolver(opts.Credentials)

	pctx, stopProgress := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if opts.Progress != nil {
		tr := newProgressTracker(c.ctd.ContentStore(), opts.Progress)
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr.run(pctx)
		}()
		defer func() {
			stopProgress()
			wg.Wait()
			tr.finish(context.WithoutCancel(ctx))
		}()
		img, err := c.pull(ctx, named, platform, resolver, containerd.WithImageHandler(tr.handler()))
		return img, err
	}
	defer stopProgress()
	return c.pull(ctx, named, platform, resolver)
}

func (c *Client) pull(ctx context.Context, named reference.Named, platform string, resolver remotes.Resolver, extra ...containerd.RemoteOpt) (Image, error) {
	ropts := append([]containerd.RemoteOpt{
		containerd.WithResolver(resolver),
		containerd.WithPlatform(platform),
		containerd.WithPullUnpack,
		containerd.WithPullSnapshotter(c.cfg.Snapshotter),
	}, extra...)
	img, err := c.ctd.Pull(ctx, named.String(), ropts...)
	if err != nil {
		return Image{}, classifyPullError(named.String(), err)
	}
	dgst := img.Target().Digest
	pinned, err := reference.WithDigest(reference.TrimNamed(named), dgst)
	if err != nil {
		return Image{}, fmt.Errorf("pin %s: %w", named, err)
	}
	// Keep a record under the pinned name too, so that a spec that names the
	// digest finds the image even after the tag has moved.
	if pinned.String() != named.String() {
		rec := images.Image{Name: pinned.String(), Target: img.Target(), Labels: map[string]string{labelManaged: "true"}}
		if _, err := c.ctd.ImageService().Create(ctx, rec); err != nil && !errdefs.IsAlreadyExists(err) {
			return Image{}, fmt.Errorf("record %s: %w", pinned, err)
		} else if err != nil {
			if _, err := c.ctd.ImageService().Update(ctx, rec); err != nil {
				return Image{}, fmt.Errorf("record %s: %w", pinned, err)
			}
		}
	}
	size, err := img.Size(ctx)
	if err != nil {
		return Image{}, fmt.Errorf("size of %s: %w", named, err)
	}
	out := Image{Digest: dgst.String(), Size: size, Ref: pinned.String()}
	if tagged, ok := named.(reference.Tagged); ok {
		out.Ref = reference.TrimNamed(named).String() + ":" + tagged.Tag() + "@" + dgst.String()
	}
	return out, nil
}

// resolver talks to registries: HTTPS everywhere but on loopback hosts, with
// the caller's credentials.
func (c *Client) resolver(creds func(host string) (Credentials, bool)) remotes.Resolver {
	regOpts := []docker.RegistryOpt{docker.WithPlainHTTP(isLoopbackHost)}
	if creds != nil {
		regOpts = append(regOpts, docker.WithAuthorizer(docker.NewDockerAuthorizer(
			docker.WithAuthCreds(func(host string) (string, string, error) {
				cr, ok := creds(host)
				if !ok {
					return "", "", nil
				}
				return cr.Username, cr.Secret, nil
			}),
		)))
	}
	return docker.NewResolver(docker.ResolverOptions{Hosts: docker.ConfigureDefaultRegistries(regOpts...)})
}

// isLoopbackHost says whether a registry host ("name:port") is on loopback:
// the only place plain HTTP is allowed.
func isLoopbackHost(host string) (bool, error) {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if h == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback(), nil
}

// classifyPullError maps containerd's errors to the runtime's sentinels, and
// keeps the reference and the cause in the message.
func classifyPullError(ref string, err error) error {
	msg := err.Error()
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case strings.Contains(msg, "unexpected commit digest") || strings.Contains(msg, "unexpected commit size") || strings.Contains(msg, "digest mismatch"):
		return fmt.Errorf("pull %s: %w: %v", ref, ErrDigestMismatch, err)
	case errdefs.IsNotFound(err):
		return fmt.Errorf("pull %s: image %w in the registry: %v", ref, ErrNotFound, err)
	case strings.Contains(msg, http.StatusText(http.StatusUnauthorized)) || strings.Contains(msg, "401") || errdefs.IsUnauthorized(err) || errdefs.IsPermissionDenied(err):
		return fmt.Errorf("pull %s: %w: %v", ref, ErrUnauthorized, err)
	case errors.As(err, &opErr) || errors.As(err, &netErr) || strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host"):
		return fmt.Errorf("pull %s: %w: %v", ref, ErrUnreachable, err)
	}
	return fmt.Errorf("pull %s: %w", ref, err)
}

// progressTracker polls the content store's ingest statuses and reports the
// bytes of each blob that the pull fetches.
type progressTracker struct {
	cs   content.Store
	emit func(PullProgress)

	// mu guards descs, order, reported and existed.
	mu       sync.Mutex
	descs    map[string]ocispec.Descriptor // by digest, in the order seen
	order    []string
	reported map[string]int64
	existed  map[string]bool
}

func newProgressTracker(cs content.Store, emit func(PullProgress)) *progressTracker {
	return &progressTracker{cs: cs, emit: emit, descs: map[string]ocispec.Descriptor{}, reported: map[string]int64{}, existed: map[string]bool{}}
}

func (p *progressTracker) handler() images.Handler {
	return images.HandlerFunc(func(ctx context.Context, d ocispec.Descriptor) ([]ocispec.Descriptor, error) {
		_, err := p.cs.Info(ctx, d.Digest)
		p.mu.Lock()
		if _, ok := p.descs[d.Digest.String()]; !ok {
			p.descs[d.Digest.String()] = d
			p.order = append(p.order, d.Digest.String())
			if err == nil {
				p.existed[d.Digest.String()] = true
			}
		}
		p.mu.Unlock()
		return nil, nil
	})
}

func (p *progressTracker) run(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.poll(ctx)
		}
	}
}

func (p *progressTracker) poll(ctx context.Context) {
	statuses, err := p.cs.ListStatuses(ctx)
	if err != nil {
		return
	}
	active := map[string]content.Status{}
	for _, s := range statuses {
		active[s.Expected.String()] = s
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, dg := range p.order {
		d := p.descs[dg]
		if s, ok := active[dg]; ok && p.reported[dg] != s.Offset {
			p.reported[dg] = s.Offset
			p.emit(PullProgress{Ref: s.Ref, Digest: dg, Done: s.Offset, Total: d.Size, Status: "downloading"})
		}
	}
}

// finish reports every blob as done or already present.
func (p *progressTracker) finish(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, dg := range p.order {
		d := p.descs[dg]
		if _, err := p.cs.Info(ctx, d.Digest); err != nil {
			continue
		}
		status := "done"
		if p.existed[dg] {
			status = "exists"
		}
		p.emit(PullProgress{Digest: dg, Done: d.Size, Total: d.Size, Status: status})
	}
}
