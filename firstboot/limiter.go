package firstboot

import (
	"sync"
	"time"
)

// Limiter defaults: 5 wrong codes are free, then each one makes the next
// attempt wait 2 s, doubling up to 15 minutes.
const (
	DefaultFree = 5
	DefaultBase = 2 * time.Second
	DefaultMax  = 15 * time.Minute
)

// LimiterConfig configures a Limiter; zero values take the defaults.
type LimiterConfig struct {
	Free      int
	Base, Max time.Duration
	Now       func() time.Time
}

// Limiter limits setup code attempts for the whole box: one counter,
// never keyed by client address (which an attacker chooses). A wrong code
// past the free ones delays the next attempt exponentially; a right one
// resets it. With 58.9 bits and at most four tries an hour in the long
// run, guessing is hopeless. The count lives in memory.
type Limiter struct {
	cfg LimiterConfig

	mu       sync.Mutex // guards failures and next
	failures int
	next     time.Time
}

// NewLimiter returns a Limiter.
func NewLimiter(cfg LimiterConfig) *Limiter {
	if cfg.Free <= 0 {
		cfg.Free = DefaultFree
	}
	if cfg.Base <= 0 {
		cfg.Base = DefaultBase
	}
	if cfg.Max <= 0 {
		cfg.Max = DefaultMax
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{cfg: cfg}
}

// Wait returns how long until the next attempt may come (0: now).
func (l *Limiter) Wait() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d := l.next.Sub(l.cfg.Now()); d > 0 {
		return d
	}
	return 0
}

// Fail records a wrong code and returns the delay it starts.
func (l *Limiter) Fail() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures++
	if l.failures <= l.cfg.Free {
		return 0
	}
	d := l.cfg.Base
	for i := l.cfg.Free + 1; i < l.failures && d < l.cfg.Max; i++ {
		d *= 2
	}
	d = min(d, l.cfg.Max)
	l.next = l.cfg.Now().Add(d)
	return d
}

// Reset forgets the failures (a right code, or a factory reset).
func (l *Limiter) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures, l.next = 0, time.Time{}
}
