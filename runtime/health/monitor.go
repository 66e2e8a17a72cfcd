package health

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Monitor probes containers and tracks their status. It owns one goroutine
// per watched container; Close stops them and waits for them.
type Monitor struct {
	logger   *slog.Logger
	onChange func(id string, s Status)
	client   *http.Client
	ctx      context.Context // done at Close
	stop     context.CancelFunc
	wg       sync.WaitGroup // one per watch goroutine

	// notifyMu serializes the calls of onChange (all of them, so also those
	// for one id) together with the check that their watch is current.
	notifyMu sync.Mutex

	// mu guards the fields below and every watch's result. It is never held
	// while probing or calling onChange.
	mu       sync.Mutex
	watches  map[string]*watch
	reported map[string]Status // the last status passed to onChange, per id
	closed   bool
}

// watch is one container's check and its goroutine.
type watch struct {
	id      string
	check   Check // with defaults
	invalid error // from check.Validate: every probe fails with it
	target  Target
	cancel  context.CancelFunc
	done    chan struct{} // closed when the goroutine has returned
	result  Result        // guarded by Monitor.mu
}

// NewMonitor makes a Monitor. onChange, if not nil, is called on every
// status change of a watched container, starting with "starting" when it is
// first watched; calls are never concurrent. onChange must return soon and
// must not call Unwatch or Close. A nil logger discards.
func NewMonitor(logger *slog.Logger, onChange func(id string, s Status)) *Monitor {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Monitor{
		logger:   logger.With("component", "health"),
		onChange: onChange,
		client:   newHTTPClient(),
		ctx:      ctx,
		stop:     stop,
		watches:  make(map[string]*watch),
		reported: make(map[string]Status),
	}
}

// Watch starts probing container id with c (defaults filled in) against t,
// replacing an existing watch of id. The status starts at "starting"; the
// first probe runs at once. An invalid check (see Check.Validate) makes
// every probe fail with its error. Watch after Close does nothing.
func (m *Monitor) Watch(id string, c Check, t Target) {
	invalid := c.Validate()
	c = c.WithDefaults()
	if t.StartedAt.IsZero() {
		t.StartedAt = time.Now()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	if old := m.watches[id]; old != nil {
		old.cancel() // its goroutine ends on its own; it no longer reports
	}
	ctx, cancel := context.WithCancel(m.ctx)
	w := &watch{
		id:      id,
		check:   c,
		invalid: invalid,
		target:  t,
		cancel:  cancel,
		done:    make(chan struct{}),
		result:  Result{Status: StatusStarting},
	}
	m.watches[id] = w
	if invalid != nil {
		m.logger.Warn("invalid health check", "container", id, "err", invalid)
	}
	m.wg.Add(1)
	go m.run(ctx, w)
}

// Unwatch stops probing id and forgets its result. When it returns, onChange
// is not called for id any more (until a new Watch).
func (m *Monitor) Unwatch(id string) {
	m.mu.Lock()
	w := m.watches[id]
	delete(m.watches, id)
	delete(m.reported, id)
	m.mu.Unlock()
	if w != nil {
		w.cancel()
		<-w.done
	}
}

// Result returns the state of id, and false if id is not watched.
func (m *Monitor) Result(id string) (Result, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.watches[id]
	if w == nil {
		return Result{}, false
	}
	return w.result, true
}

// Close stops every watch and waits for their goroutines.
func (m *Monitor) Close() {
	m.mu.Lock()
	m.closed = true
	m.watches = make(map[string]*watch)
	m.mu.Unlock()
	m.stop()
	m.wg.Wait()
	m.client.CloseIdleConnections()
}

// run probes w until ctx is done: at once, then Interval after the end of
// each probe.
func (m *Monitor) run(ctx context.Context, w *watch) {
	defer m.wg.Done()
	defer close(w.done)
	m.notify(w, StatusStarting)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		ok, out := false, ""
		if w.invalid != nil {
			out = w.invalid.Error()
		} else {
			ok, out = probe(ctx, m.client, w.check, w.target)
		}
		if ctx.Err() != nil {
			return
		}
		if !ok {
			m.logger.Debug("health probe failed", "container", w.id, "output", out)
		}
		m.notify(w, m.record(w, ok, out, start, time.Now()))
		timer.Reset(w.check.Interval)
	}
}

// record applies one probe's outcome to w's result, the way Docker does, and
// returns the new status.
func (m *Monitor) record(w *watch, ok bool, out string, start, end time.Time) Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := &w.result
	r.LastOutput, r.LastCheck = out, end
	switch {
	case ok:
		r.FailingStreak = 0
		r.Status = StatusHealthy
	case r.Status == StatusStarting && start.Sub(w.target.StartedAt) < w.check.StartPeriod:
		// A failure in the start period does not count.
	default:
		r.FailingStreak++
		if r.FailingStreak >= w.check.Retries {
			r.Status = StatusUnhealthy
		}
	}
	return r.Status
}

// notify passes s to onChange if w is still the watch of its id and s differs
// from what was last reported for it.
func (m *Monitor) notify(w *watch, s Status) {
	m.notifyMu.Lock()
	defer m.notifyMu.Unlock()
	m.mu.Lock()
	changed := m.watches[w.id] == w && m.reported[w.id] != s
	if changed {
		m.reported[w.id] = s
	}
	m.mu.Unlock()
	if !changed {
		return
	}
	m.logger.Info("health changed", "container", w.id, "status", string(s))
	if m.onChange != nil {
		m.onChange(w.id, s)
	}
}
