package agent

import (
	"testing"
	"time"
)

func TestRestartBackoff(t *testing.T) {
	b := newRestartBackoff()
	t0 := time.Unix(1000, 0)
	if !b.Ready("c", t0) {
		t.Fatal("a container never started must be ready")
	}
	waits := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	now := t0
	for i, w := range waits {
		b.started("c", now)
		if b.Ready("c", now.Add(w-time.Millisecond)) {
			t.Fatalf("restart %d: ready before %s", i+1, w)
		}
		if !b.Ready("c", now.Add(w)) {
			t.Fatalf("restart %d: not ready after %s", i+1, w)
		}
		now = now.Add(w)
	}
	// A long run is forgiven: the next wait is short again.
	now = now.Add(2 * time.Minute)
	b.started("c", now)
	if !b.Ready("c", now.Add(time.Second)) {
		t.Fatal("after a long run the wait should be back to 1 s")
	}
	for i := 0; i < 20; i++ {
		b.started("c", now)
	}
	if !b.Ready("c", now.Add(backoffMax)) {
		t.Fatalf("wait exceeds the %s cap", backoffMax)
	}
}
