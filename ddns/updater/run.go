package updater

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hearthbox/hearth/ddns/discover"
)

// Discoverer finds the public addresses; *discover.Discoverer is one.
type Discoverer interface {
	Discover(ctx context.Context) (discover.Result, error)
}

var _ Discoverer = (*discover.Discoverer)(nil)

// Run keeps the records up to date until ctx ends: every Interval it asks
// d for the public addresses and calls Update; after a failure it waits a
// backoff with jitter instead, doubling up to MaxBackoff. Trigger starts a
// pass at once. Run returns nil when ctx ends.
func (u *Updater) Run(ctx context.Context, d Discoverer) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-u.kick:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}
		wait := u.runOnce(ctx, d)
		if ctx.Err() != nil {
			return nil
		}
		timer.Reset(wait)
	}
}

// Trigger asks Run for a pass now (after a settings change, or when the
// owner asks).
func (u *Updater) Trigger() {
	select {
	case u.kick <- struct{}{}:
	default:
	}
}

// runOnce discovers, updates, records the outcome and returns how long to
// wait before the next pass.
func (u *Updater) runOnce(ctx context.Context, d Discoverer) time.Duration {
	res, err := d.Discover(ctx)
	if err == nil && !res.IPv4.IsValid() && !res.IPv6.IsValid() {
		err = fmt.Errorf("%w: %w", ErrNoAddress, errors.Join(res.Err4, res.Err6))
	}
	if err == nil {
		err = u.Update(ctx, Addresses{IPv4: res.IPv4, IPv6: res.IPv6})
	} else {
		u.mu.Lock()
		u.status.LastCheck = u.now()
		u.status.LastError = err.Error()
		u.status.Verified = false
		u.status.Failures++
		u.mu.Unlock()
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.status.Advice = res.Advice
	wait := u.cfg.Interval
	if err != nil {
		wait = Backoff(u.status.Failures, u.cfg.MinBackoff, u.cfg.MaxBackoff, rand.Float64())
		u.log.Warn("update failed", "err", err, "failures", u.status.Failures, "retry_in", wait)
	}
	u.status.NextTry = u.now().Add(wait)
	return wait
}

// Backoff is the wait after the n-th failure in a row: lo doubled n-1
// times, capped at hi, then scaled into its upper half by jitter (0 to 1)
// so that many boxes do not retry in step.
func Backoff(n int, lo, hi time.Duration, jitter float64) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return time.Duration(float64(min(d, hi)) * (0.5 + jitter/2))
}
