package state

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAddActivityRefusesInvalidEntries(t *testing.T) {
	cases := []struct {
		name  string
		a     Activity
		field string
	}{
		{"no actor", Activity{Action: "install", Outcome: "ok"}, "actor"},
		{"no action", Activity{Actor: "cli:root", Outcome: "ok"}, "action"},
		{"action with a space", Activity{Actor: "cli:root", Action: "in stall", Outcome: "ok"}, "action"},
		{"no outcome", Activity{Actor: "cli:root", Action: "install"}, "outcome"},
		{"bad app", Activity{Actor: "cli:root", Action: "install", Outcome: "ok", App: "A B"}, "app"},
	}
	s := openTest(t, Options{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.AddActivity(c.a)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.field+":") {
				t.Errorf("got %v, want ErrInvalid naming %q", err, c.field)
			}
		})
	}
}

func TestActivityReadBack(t *testing.T) {
	clk := newClock()
	s := openTest(t, Options{Now: clk.Now})
	var want []Activity
	for i, action := range []string{"install", "start", "stop", "update", "uninstall"} {
		a := Activity{Actor: "cli:root", App: "web", Action: action, Outcome: "ok"}
		if i == 1 {
			a.Time = t0.Add(-time.Hour) // the caller's time is kept
		}
		seq, err := s.AddActivity(a)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := seq, uint64(i+1); got != want {
			t.Errorf("got seq %d, want %d", got, want)
		}
		a.Seq = seq
		if a.Time.IsZero() {
			a.Time = clk.Now()
		}
		want = append(want, a)
		clk.Advance(time.Second)
	}
	cases := []struct {
		name   string
		since  uint64
		limit  int
		recent bool
		want   []Activity
	}{
		{"all", 0, 0, false, want},
		{"since 2", 2, 0, false, want[2:]},
		{"since 2, two", 2, 2, false, want[2:4]},
		{"since the last", 5, 0, false, nil},
		{"since far ahead", 1 << 63, 0, false, nil},
		{"since the largest", ^uint64(0), 0, false, nil},
		{"recent two", 0, 2, true, want[3:]},
		{"recent all", 0, 0, true, want},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []Activity
			var err error
			if c.recent {
				got, err = s.RecentActivity(c.limit)
			} else {
				got, err = s.Activity(c.since, c.limit)
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got, equateEmpty); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestActivityKeepsTheNewest(t *testing.T) {
	cases := []struct {
		name  string
		limit int // 0: the default
		add   int
		want  int
	}{
		{"below the limit", 5, 4, 4},
		{"at the limit", 5, 5, 5},
		{"past the limit", 5, 12, 5},
		{"the default 10,000", 0, DefaultActivityLimit + 25, DefaultActivityLimit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openTest(t, Options{ActivityLimit: c.limit})
			err := s.Update(func(tx *Tx) error {
				for range c.add {
					if _, err := tx.AddActivity(Activity{Actor: "test", Action: "tick", Outcome: "ok"}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Activity(0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.want {
				t.Fatalf("got %d entries, want %d", len(got), c.want)
			}
			if first, want := got[0].Seq, uint64(c.add-c.want+1); first != want {
				t.Errorf("got oldest seq %d, want %d", first, want)
			}
			if last, want := got[len(got)-1].Seq, uint64(c.add); last != want {
				t.Errorf("got newest seq %d, want %d", last, want)
			}
		})
	}
}

func TestActivityDetailIsCut(t *testing.T) {
	s := openTest(t, Options{})
	seq, err := s.AddActivity(Activity{Actor: "a", Action: "b", Outcome: "failed", Detail: strings.Repeat("x", 3*MaxText)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Activity(seq-1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Detail) != MaxText {
		t.Errorf("got %v, want one entry with a detail of %d bytes", len(got), MaxText)
	}
}
