package firstboot

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	l := NewLimiter(LimiterConfig{Free: 2, Base: time.Second, Max: 6 * time.Second, Now: func() time.Time { return now }})
	var got []time.Duration
	for range 7 {
		got = append(got, l.Fail())
	}
	want := []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 6 * time.Second, 6 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delays (-want +got):\n%s", diff)
	}
	if w := l.Wait(); w != 6*time.Second {
		t.Errorf("Wait: got %s, want 6s", w)
	}
	now = now.Add(6 * time.Second)
	if w := l.Wait(); w != 0 {
		t.Errorf("Wait after the delay: got %s, want 0", w)
	}
	l.Reset()
	if d := l.Fail(); d != 0 {
		t.Errorf("first failure after Reset: got %s, want 0 (free again)", d)
	}
}
