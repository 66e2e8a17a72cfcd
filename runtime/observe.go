package rt

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	cgroup1stats "github.com/containerd/cgroups/v3/cgroup1/stats"
	cgroup2stats "github.com/containerd/cgroups/v3/cgroup2/stats"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/typeurl/v2"

	"github.com/hearthbox/hearth/runtime/health"
	"github.com/hearthbox/hearth/runtime/logfile"
)

// LogOptions select what Logs reads.
type LogOptions = logfile.ReadOptions

// LogEntry is one line of a container's output.
type LogEntry = logfile.Entry

// Logs calls fn for each line of a container's output, oldest first; with
// Follow it goes on until ctx ends.
func (c *Client) Logs(ctx context.Context, id string, opts LogOptions, fn func(LogEntry) error) error {
	if !idPattern.MatchString(id) {
		return fieldErr("id", "%q is not a container id", id)
	}
	if err := logfile.Read(ctx, logfile.Path(c.logDir(), id), opts, fn); err != nil {
		return fmt.Errorf("logs of %s: %w", id, err)
	}
	return nil
}

// Stats reads a running container's counters from its cgroup (v1 or v2)
// and its network namespace.
func (c *Client) Stats(ctx context.Context, id string) (Stats, error) {
	ctx = c.ns(ctx)
	ctr, err := c.load(ctx, id)
	if err != nil {
		return Stats{}, err
	}
	task, err := ctr.Task(ctx, nil)
	if err != nil {
		return Stats{}, fmt.Errorf("container %s: not running: %w", id, err)
	}
	m, err := task.Metrics(ctx)
	if err != nil {
		return Stats{}, fmt.Errorf("container %s: metrics: %w", id, err)
	}
	v, err := typeurl.UnmarshalAny(m.Data)
	if err != nil {
		return Stats{}, fmt.Errorf("container %s: metrics: %w", id, err)
	}
	st := Stats{Time: time.Now()}
	switch x := v.(type) {
	case *cgroup1stats.Metrics:
		if x.CPU != nil && x.CPU.Usage != nil {
			st.CPUNanos = x.CPU.Usage.Total
		}
		if x.Memory != nil && x.Memory.Usage != nil {
			st.MemoryBytes = x.Memory.Usage.Usage - x.Memory.TotalInactiveFile
			if x.Memory.TotalInactiveFile > x.Memory.Usage.Usage {
				st.MemoryBytes = x.Memory.Usage.Usage
			}
			st.MemoryLimit = x.Memory.Usage.Limit
		}
		if x.Pids != nil {
			st.Pids = x.Pids.Current
		}
	case *cgroup2stats.Metrics:
		if x.CPU != nil {
			st.CPUNanos = x.CPU.UsageUsec * 1000
		}
		if x.Memory != nil {
			st.MemoryBytes = x.Memory.Usage - min(x.Memory.InactiveFile, x.Memory.Usage)
			st.MemoryLimit = x.Memory.UsageLimit
		}
		if x.Pids != nil {
			st.Pids = x.Pids.Current
		}
	default:
		return Stats{}, fmt.Errorf("container %s: unknown metrics type %T", id, v)
	}
	st.NetRxBytes, st.NetTxBytes, err = netCounters(task.Pid())
	if err != nil {
		return Stats{}, fmt.Errorf("container %s: network counters: %w", id, err)
	}
	return st, nil
}

// netCounters sums the bytes of every interface but loopback in the network
// namespace of pid, from /proc/<pid>/net/dev.
func netCounters(pid uint32) (rx, tx uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseNetDev(b)
}

func parseNetDev(b []byte) (rx, tx uint64, err error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 9 {
			continue
		}
		r, err1 := strconv.ParseUint(f[0], 10, 64)
		t, err2 := strconv.ParseUint(f[8], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, 0, fmt.Errorf("bad line %q", sc.Text())
		}
		rx += r
		tx += t
	}
	return rx, tx, sc.Err()
}

func toHealthCheck(h HealthCheck) health.Check {
	return health.Check{
		HTTPPath: h.HTTPPath, HTTPPort: h.HTTPPort, TCPPort: h.TCPPort, Command: h.Command,
		Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries,
	}
}

// watchHealth starts the health checks of a running container, if it has any.
func (c *Client) watchHealth(ctx context.Context, s ContainerSpec) {
	if s.Health == nil {
		return
	}
	target := health.Target{Exec: c.execer(s.ID)}
	if att, ok := c.net.Attachment(s.ID); ok {
		target.Addr = att.IP
	}
	if s.HostNetwork {
		target.Addr = loopback()
	}
	c.hm.Watch(s.ID, toHealthCheck(*s.Health).WithDefaults(), target)
}

func (c *Client) onHealth(id string, s health.Status) {
	c.events.publish(Event{Type: EventHealth, Container: id, Health: Health(s)})
}

// execer runs a health-check command inside the container, as its user, and
// returns its exit code and the first bytes of its output.
func (c *Client) execer(id string) func(ctx context.Context, argv []string) (int, string, error) {
	var seq atomic.Uint64
	return func(ctx context.Context, argv []string) (int, string, error) {
		ctx = c.ns(ctx)
		ctr, err := c.load(ctx, id)
		if err != nil {
			return -1, "", err
		}
		spec, err := ctr.Spec(ctx)
		if err != nil {
			return -1, "", err
		}
		task, err := ctr.Task(ctx, nil)
		if err != nil {
			return -1, "", err
		}
		pspec := *spec.Process
		pspec.Args = argv
		pspec.Terminal = false
		var out limitedBuffer
		execID := fmt.Sprintf("health-%d-%d", time.Now().UnixNano(), seq.Add(1))
		proc, err := task.Exec(ctx, execID, &pspec, cio.NewCreator(cio.WithStreams(nil, &out, &out)))
		if err != nil {
			return -1, "", err
		}
		defer func() { _, _ = proc.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill) }()
		wait, err := proc.Wait(ctx)
		if err != nil {
			return -1, "", err
		}
		if err := proc.Start(ctx); err != nil {
			return -1, "", err
		}
		select {
		case st := <-wait:
			proc.IO().Wait()
			return int(st.ExitCode()), out.String(), nil
		case <-ctx.Done():
			return -1, out.String(), ctx.Err()
		}
	}
}

// limitedBuffer keeps the first 4 KiB written to it.
type limitedBuffer struct {
	buf bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4096 - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return l.buf.String() }
