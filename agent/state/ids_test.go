package state

import (
	"regexp"
	"testing"
	"time"
)

func TestNewOpIDSortsByCall(t *testing.T) {
	clk := newClock()
	s := openTest(t, Options{Now: clk.Now})
	format := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`)
	steps := []struct {
		name    string
		advance time.Duration
	}{
		{"first", 0},
		{"same millisecond", 0},
		{"again", 0},
		{"later", time.Second},
		{"clock stepped back", -time.Hour},
		{"later again", 2 * time.Hour},
	}
	prev := ""
	for _, st := range steps {
		clk.Advance(st.advance)
		id := s.NewOpID()
		if !format.MatchString(id) {
			t.Errorf("%s: got %q, want 26 characters of Crockford base 32", st.name, id)
		}
		if id <= prev {
			t.Errorf("%s: got %q, want it after %q", st.name, id, prev)
		}
		if err := checkOpID("id", id); err != nil {
			t.Errorf("%s: got %v for our own id", st.name, err)
		}
		prev = id
	}
}

func TestOpIDEncodesTheTime(t *testing.T) {
	cases := []struct {
		name string
		id   opID
		want string
	}{
		{"zero", opID{}, "00000000000000000000000000"},
		{"one ms", opID{ms: 1}, "00000000010000000000000000"},
		{"last random bit", opID{rand: [10]byte{9: 1}}, "00000000000000000000000001"},
		{"max", opID{ms: 1<<48 - 1, rand: [10]byte{255, 255, 255, 255, 255, 255, 255, 255, 255, 255}}, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.id.String(); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}
