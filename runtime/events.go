package rt

import (
	"context"
	"fmt"
	"sync"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/typeurl/v2"
)

// Events streams container events (exits, OOM kills, health changes) until
// ctx ends or the client closes. A slow reader loses events rather than
// stalling the runtime: the channel holds 256.
func (c *Client) Events(ctx context.Context) <-chan Event {
	return c.events.subscribe(ctx)
}

// watchEvents follows containerd's task events and turns exits and OOM kills
// of managed containers into Events. It reconnects after errors.
func (c *Client) watchEvents(ctx context.Context) {
	backoff := time.NewTicker(time.Second)
	defer backoff.Stop()
	for {
		c.followEvents(ctx)
		select {
		case <-ctx.Done():
			return
		case <-backoff.C:
		}
	}
}

func (c *Client) followEvents(ctx context.Context) {
	ch, errs := c.ctd.EventService().Subscribe(ctx,
		fmt.Sprintf(`namespace==%q,topic=="/tasks/exit"`, c.cfg.Namespace),
		fmt.Sprintf(`namespace==%q,topic=="/tasks/oom"`, c.cfg.Namespace))
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-errs:
			if err != nil && ctx.Err() == nil {
				c.log.Warn("containerd event stream broke", "err", err)
			}
			return
		case env := <-ch:
			if env == nil || env.Event == nil {
				continue
			}
			v, err := typeurl.UnmarshalAny(env.Event)
			if err != nil {
				c.log.Warn("undecodable containerd event", "topic", env.Topic, "err", err)
				continue
			}
			switch e := v.(type) {
			case *apievents.TaskOOM:
				c.onOOM(e.ContainerID, env.Timestamp)
			case *apievents.TaskExit:
				if e.ID != "" && e.ID != e.ContainerID {
					continue // an exec'd process (a health check), not the container
				}
				c.onExit(e.ContainerID, e.ExitStatus, e.ExitedAt.AsTime())
			}
		}
	}
}

func (c *Client) onExit(id string, code uint32, at time.Time) {
	c.hm.Unwatch(id)
	oom := c.wasOOM(id)
	if err := c.saveExit(id, exitRecord{ExitCode: code, Time: at, OOMKilled: oom}); err != nil {
		c.log.Warn("save exit", "container", id, "err", err)
	}
	c.events.publish(Event{Type: EventExit, Container: id, Time: at, ExitCode: code, OOMKilled: oom})
}

func (c *Client) setOOM(id string, v bool) {
	c.oomMu.Lock()
	defer c.oomMu.Unlock()
	if v {
		c.oom[id] = true
	} else {
		delete(c.oom, id)
	}
}

// wasOOM says whether the container had an OOM kill since its start.
func (c *Client) wasOOM(id string) bool {
	c.oomMu.Lock()
	defer c.oomMu.Unlock()
	return c.oom[id]
}

// onOOM records an OOM kill. The event can trail the exit it caused: then
// the saved exit is corrected.
func (c *Client) onOOM(id string, at time.Time) {
	c.setOOM(id, true)
	if ex, ok := c.lastExit(id); ok && !ex.OOMKilled && at.Sub(ex.Time).Abs() < 5*time.Second {
		ex.OOMKilled = true
		if err := c.saveExit(id, ex); err != nil {
			c.log.Warn("save exit", "container", id, "err", err)
		}
	}
	c.events.publish(Event{Type: EventOOM, Container: id, Time: at})
}

// broker fans events out to subscribers.
type broker struct {
	// mu guards subs and closed.
	mu     sync.Mutex
	subs   map[chan Event]struct{}
	closed bool
}

func newBroker() *broker { return &broker{subs: map[chan Event]struct{}{}} }

func (b *broker) subscribe(ctx context.Context) <-chan Event {
	ch := make(chan Event, 256)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch
	}
	b.subs[ch] = struct{}{}
	context.AfterFunc(ctx, func() { b.unsubscribe(ch) })
	return ch
}

func (b *broker) unsubscribe(ch chan Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[ch]; ok {
		delete(b.subs, ch)
		close(ch)
	}
}

func (b *broker) publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

func (b *broker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}
