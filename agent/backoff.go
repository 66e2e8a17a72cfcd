package agent

import (
	"sync"
	"time"
)

// restartBackoff spaces out restarts of a container that keeps crashing:
// 1 s, 2 s, 4 s … up to 5 minutes, forgiven once it has run for a minute.
type restartBackoff struct {
	// mu guards m.
	mu sync.Mutex
	m  map[string]backoffEntry
}

type backoffEntry struct {
	failures int
	next     time.Time
	started  time.Time
}

const (
	backoffMax     = 5 * time.Minute
	backoffForgive = time.Minute
)

func newRestartBackoff() *restartBackoff { return &restartBackoff{m: map[string]backoffEntry{}} }

// Ready reports whether a stopped container may be started again at now.
func (b *restartBackoff) Ready(id string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.m[id]
	return !ok || !now.Before(e.next)
}

// started records a (re)start at now.
func (b *restartBackoff) started(id string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.m[id]
	if !e.started.IsZero() && now.Sub(e.started) > backoffForgive {
		e.failures = 0
	}
	d := time.Second << min(e.failures, 9)
	e.failures++
	e.next = now.Add(min(d, backoffMax))
	e.started = now
	b.m[id] = e
}

// reset forgets a container (made anew, or removed).
func (b *restartBackoff) reset(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, id)
}
