package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/typeurl/v2"
)

// Phases of the runtime's start, in order. Each is the time from the end of
// the previous one:
//
//	ensure        rt.Ensure: image lookup, files, spec, snapshot, container record
//	cni_attach    rt.Start up to the network manager's "container attached"
//	              log record: netns, CNI ADD (loopback, bridge, host-local)
//	task_create   to containerd's /tasks/create event: shim, log driver, runc create
//	task_start    to containerd's /tasks/start event: runc start
//	start_return  to rt.Start's return (inspect)
//	first_http    to the first HTTP 200 from /healthz
func phaseNames() []string {
	return []string{"ensure", "cni_attach", "task_create", "task_start", "start_return", "first_http"}
}

// marks are the instants of one runtime cycle.
type marks struct {
	begin, ensured, attached, created, started, returned, ready time.Time
}

// phaseRecorder collects the marks of the runtime's cycles, from the
// benchmark itself, the runtime's log records and containerd's events.
type phaseRecorder struct {
	// mu guards byID.
	mu   sync.Mutex
	byID map[string]*marks
}

func newPhaseRecorder() *phaseRecorder { return &phaseRecorder{byID: map[string]*marks{}} }

// update changes the marks of container id under the lock.
func (p *phaseRecorder) update(id string, f func(*marks)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m, ok := p.byID[id]
	if !ok {
		m = &marks{}
		p.byID[id] = m
	}
	f(m)
}

// phases returns the phase durations of container id in milliseconds, by
// phase name. A phase whose ends were not both seen is left out.
func (p *phaseRecorder) phases(id string) map[string]float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	m, ok := p.byID[id]
	if !ok {
		return nil
	}
	points := []time.Time{m.begin, m.ensured, m.attached, m.created, m.started, m.returned, m.ready}
	out := map[string]float64{}
	for i, name := range phaseNames() {
		from, to := points[i], points[i+1]
		if from.IsZero() || to.IsZero() {
			continue
		}
		out[name] = millis(to.Sub(from))
	}
	return out
}

// logHandler is the runtime's slog handler: it notes when the network
// manager reports "container attached" and passes every record on to next
// (which may be nil).
type logHandler struct {
	rec  *phaseRecorder
	next slog.Handler
}

var _ slog.Handler = logHandler{}

// Enabled implements slog.Handler.
func (h logHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || (h.next != nil && h.next.Enabled(ctx, l))
}

// Handle implements slog.Handler.
func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "container attached" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "container" {
				h.rec.update(a.Value.String(), func(m *marks) { m.attached = r.Time })
				return false
			}
			return true
		})
	}
	if h.next != nil && h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

// WithAttrs implements slog.Handler.
func (h logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if h.next != nil {
		h.next = h.next.WithAttrs(as)
	}
	return h
}

// WithGroup implements slog.Handler.
func (h logHandler) WithGroup(name string) slog.Handler {
	if h.next != nil {
		h.next = h.next.WithGroup(name)
	}
	return h
}

// followTaskEvents notes the time of containerd's /tasks/create and
// /tasks/start events of namespace ns until ctx ends or the stream breaks.
func followTaskEvents(ctx context.Context, ctd *containerd.Client, ns string, rec *phaseRecorder) {
	ch, errs := ctd.EventService().Subscribe(ctx,
		fmt.Sprintf(`namespace==%q,topic=="/tasks/create"`, ns),
		fmt.Sprintf(`namespace==%q,topic=="/tasks/start"`, ns))
	for {
		select {
		case <-ctx.Done():
			return
		case <-errs:
			return
		case env := <-ch:
			if env == nil || env.Event == nil {
				continue
			}
			v, err := typeurl.UnmarshalAny(env.Event)
			if err != nil {
				continue
			}
			switch e := v.(type) {
			case *apievents.TaskCreate:
				rec.update(e.ContainerID, func(m *marks) { m.created = env.Timestamp })
			case *apievents.TaskStart:
				rec.update(e.ContainerID, func(m *marks) { m.started = env.Timestamp })
			}
		}
	}
}
