package accounts

import (
	"sync"
	"time"
)

// Lockout defaults: 5 wrong passwords in a row are free; then each one
// locks the name for 30 s, doubling up to 15 minutes.
const (
	DefaultFreeFailures = 5
	DefaultLockBase     = 30 * time.Second
	DefaultLockMax      = 15 * time.Minute
	// maxTracked bounds the names tracked, known or not: an attacker who
	// tries many names cannot grow the map without end.
	maxTracked = 10000
)

// lockout counts wrong sign-ins per user name (never per client address:
// addresses lie behind NAT and proxies) and locks a name out with an
// exponential backoff. Unknown names are tracked like known ones, so a
// lockout reveals nothing. It lives in memory: a restart forgives, which
// an attacker on the network cannot cause.
type lockout struct {
	free      int
	base, max time.Duration

	mu    sync.Mutex // guards names
	names map[string]*failures
}

type failures struct {
	n     int
	until time.Time // locked until
	last  time.Time
}

func newLockout(free int, base, max time.Duration) *lockout {
	return &lockout{free: free, base: base, max: max, names: map[string]*failures{}}
}

// wait returns how long name is still locked out at now (0: not locked).
func (l *lockout) wait(name string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.names[name]; f != nil && now.Before(f.until) {
		return f.until.Sub(now)
	}
	return 0
}

// fail records a wrong attempt and returns the lock it starts (0: none).
func (l *lockout) fail(name string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.names[name]
	if f == nil {
		l.makeRoom(now)
		f = &failures{}
		l.names[name] = f
	}
	f.n++
	f.last = now
	if f.n <= l.free {
		return 0
	}
	d := l.base
	for i := l.free + 1; i < f.n && d < l.max; i++ {
		d *= 2
	}
	d = min(d, l.max)
	f.until = now.Add(d)
	return d
}

// succeed forgets name's failures.
func (l *lockout) succeed(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.names, name)
}

// reset forgets everything (a factory reset).
func (l *lockout) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.names)
}

// makeRoom drops names idle for a day, then, if still full, the one idle
// longest. Called with mu held.
func (l *lockout) makeRoom(now time.Time) {
	if len(l.names) < maxTracked {
		return
	}
	var oldest string
	for name, f := range l.names {
		if now.Sub(f.last) > 24*time.Hour && now.After(f.until) {
			delete(l.names, name)
			continue
		}
		if oldest == "" || f.last.Before(l.names[oldest].last) {
			oldest = name
		}
	}
	if len(l.names) >= maxTracked {
		delete(l.names, oldest)
	}
}
