package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"time"

	rt "github.com/hearthbox/hearth/runtime"
	"github.com/hearthbox/hearth/runtime/network"
)

// Names of the runtime's objects on the host. "hbenchrt" is no prefix of
// the other peers' bridges (hbenchctr0, hbenchdkr0) nor of the tests' (hrtN).
const (
	rtNamespace = "hbench"
	rtPrefix    = "hbenchrt"
	rtNetwork   = "bench"
	rtGroup     = "bench"
)

// rtPeerConfig configures the runtime method.
type rtPeerConfig struct {
	Socket    string
	StateDir  string
	DataRoot  string
	LogDriver string
	Pool      netip.Prefix
	// Ref is the image reference to pull ("host/samples/web:1.0").
	Ref      string
	Recorder *phaseRecorder
	Logger   *slog.Logger
}

// rtPeer runs containers with Hearth's runtime: Ensure, then Start.
type rtPeer struct {
	c        *rt.Client
	image    string
	dataRoot string
	rec      *phaseRecorder
}

// newRTPeer connects the runtime to the private containerd, pulls the image
// and makes the benchmark's network. Close it with close.
func newRTPeer(ctx context.Context, cfg rtPeerConfig) (*rtPeer, error) {
	c, err := rt.New(ctx, rt.Config{
		Address:   cfg.Socket,
		Namespace: rtNamespace,
		StateDir:  cfg.StateDir,
		DataRoot:  cfg.DataRoot,
		LogDriver: cfg.LogDriver,
		Network: network.Config{
			Prefix: rtPrefix,
			Pool:   cfg.Pool,
		},
		Logger: slog.New(logHandler{rec: cfg.Recorder, next: cfg.Logger.Handler()}),
	})
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	p := &rtPeer{c: c, dataRoot: cfg.DataRoot, rec: cfg.Recorder}
	img, err := c.Pull(ctx, cfg.Ref, rt.PullOptions{})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("runtime: %w", err), c.Close())
	}
	p.image = img.Ref
	if _, err := c.EnsureNetwork(ctx, rt.NetworkSpec{Name: rtNetwork}); err != nil {
		return nil, errors.Join(fmt.Errorf("runtime: %w", err), c.Close())
	}
	return p, nil
}

// spec is the container the benchmark runs: the sample web app on the
// benchmark's network, with the runtime's default lock-down and limits.
func (p *rtPeer) spec(id string) rt.ContainerSpec {
	return rt.ContainerSpec{
		ID:          id,
		Group:       rtGroup,
		Image:       p.image,
		Network:     rtNetwork,
		Names:       []string{"web"},
		DataDir:     filepath.Join(p.dataRoot, rtGroup),
		StopTimeout: 2 * time.Second,
	}
}

func (p *rtPeer) start(ctx context.Context, id string) (netip.Addr, error) {
	begin := time.Now()
	if _, _, err := p.c.Ensure(ctx, p.spec(id)); err != nil {
		return netip.Addr{}, err
	}
	ensured := time.Now()
	info, err := p.c.Start(ctx, id)
	returned := time.Now()
	p.rec.update(id, func(m *marks) { m.begin, m.ensured, m.returned = begin, ensured, returned })
	if err != nil {
		return netip.Addr{}, err
	}
	if !info.IP.IsValid() {
		return netip.Addr{}, fmt.Errorf("container %s started without an address", id)
	}
	return info.IP, nil
}

func (p *rtPeer) ready(id string, at time.Time) {
	p.rec.update(id, func(m *marks) { m.ready = at })
}

func (p *rtPeer) remove(ctx context.Context, id string) error {
	return p.c.Remove(ctx, id)
}

// close removes every container of the benchmark, its network, and closes
// the client.
func (p *rtPeer) close(ctx context.Context) error {
	var errs []error
	infos, err := p.c.List(ctx, "")
	errs = append(errs, err)
	for _, i := range infos {
		errs = append(errs, p.c.Remove(ctx, i.ID))
	}
	errs = append(errs, p.c.RemoveNetwork(ctx, rtNetwork), p.c.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("runtime cleanup: %w", err)
	}
	return nil
}
