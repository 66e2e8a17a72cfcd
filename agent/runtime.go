package agent

import (
	"context"
	"net/netip"
	"time"

	rt "github.com/hearthbox/hearth/runtime"
)

// Runtime is what the agent needs of the container runtime.
type Runtime interface {
	Pull(ctx context.Context, ref string, opts rt.PullOptions) (rt.Image, error)
	EnsureNetwork(ctx context.Context, s rt.NetworkSpec) (netip.Prefix, error)
	RemoveNetwork(ctx context.Context, name string) error
	Networks() []string
	Ensure(ctx context.Context, s rt.ContainerSpec) (rt.ContainerInfo, bool, error)
	Start(ctx context.Context, id string) (rt.ContainerInfo, error)
	Stop(ctx context.Context, id string, timeout time.Duration) error
	Remove(ctx context.Context, id string) error
	Inspect(ctx context.Context, id string) (rt.ContainerInfo, error)
	List(ctx context.Context, group string) ([]rt.ContainerInfo, error)
	Logs(ctx context.Context, id string, opts rt.LogOptions, fn func(rt.LogEntry) error) error
	Events(ctx context.Context) <-chan rt.Event
}

var _ Runtime = (*rt.Client)(nil)
