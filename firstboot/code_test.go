package firstboot

import (
	"math"
	"regexp"
	"strings"
	"testing"
)

func TestNewCode(t *testing.T) {
	if bits := float64(CodeLen) * math.Log2(float64(len(Alphabet))); bits < 50 {
		t.Errorf("entropy: got %.1f bits, want at least 50", bits)
	}
	if strings.ContainsAny(Alphabet, "0O1ILU") {
		t.Errorf("alphabet %q: holds an ambiguous symbol", Alphabet)
	}
	format := regexp.MustCompile(`^[` + Alphabet + `]{4}-[` + Alphabet + `]{4}-[` + Alphabet + `]{4}$`)
	seen := map[string]bool{}
	for range 200 {
		c, err := NewCode()
		if err != nil {
			t.Fatal(err)
		}
		if !format.MatchString(c) {
			t.Fatalf("got %q, want XXXX-XXXX-XXXX of the alphabet", c)
		}
		if seen[c] {
			t.Fatalf("got %q twice", c)
		}
		seen[c] = true
	}
}

func TestCodesMatch(t *testing.T) {
	cases := []struct {
		name, real, typed string
		want              bool
	}{
		{"same", "ABCD-EFGH-JKMN", "ABCD-EFGH-JKMN", true},
		{"lower case, no dashes", "ABCD-EFGH-JKMN", "abcdefghjkmn", true},
		{"spaces", "ABCD-EFGH-JKMN", " abcd efgh\tjkmn ", true},
		{"one symbol off", "ABCD-EFGH-JKMN", "ABCD-EFGH-JKMP", false},
		{"shorter", "ABCD-EFGH-JKMN", "ABCD-EFGH", false},
		{"empty typed", "ABCD-EFGH-JKMN", "", false},
		{"no code", "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := CodesMatch(c.real, c.typed); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
