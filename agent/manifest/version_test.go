package manifest

import (
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"0.0.0", true}, {"1.2.3", true}, {"10.20.30", true}, {"1.0.0-rc.1", true}, {"1.0.0-alpha-1.beta", true},
		{"1.0.0+build.5", true}, {"1.0.0-rc.1+build.5", true}, {"1.0.0-0A.is.legal", true},
		{"", false}, {"1", false}, {"1.2", false}, {"1.2.3.4", false}, {"v1.2.3", false}, {"01.2.3", false},
		{"1.02.3", false}, {"1.2.03", false}, {"1.2.3-", false}, {"1.2.3-rc..1", false}, {"1.2.3-01", false},
		{"1.2.3+", false}, {"1.2.3+b_1", false}, {"1.2.3 ", false}, {"-1.2.3", false}, {"1.2.x", false},
		{"99999999999999999999.0.0", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			v, err := ParseVersion(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("got %v, %v; want ok=%v", v, err, tc.ok)
			}
			if tc.ok && v.String() != tc.in {
				t.Errorf("String: got %q, want %q", v.String(), tc.in)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	// Each version ranks strictly above the one before it (semver.org's
	// example, and more).
	ordered := []string{
		"0.9.9", "1.0.0-0", "1.0.0-2", "1.0.0-10", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
		"1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.10.0", "2.0.0",
	}
	for i, a := range ordered {
		for j, b := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			got, err := CompareVersions(a, b)
			if err != nil || got != want {
				t.Errorf("CompareVersions(%q, %q): got %d, %v; want %d", a, b, got, err, want)
			}
		}
	}
	t.Run("build metadata is ignored", func(t *testing.T) {
		if got, err := CompareVersions("1.0.0+a", "1.0.0+b"); err != nil || got != 0 {
			t.Errorf("got %d, %v; want 0", got, err)
		}
	})
	t.Run("huge numeric identifiers", func(t *testing.T) {
		if got, err := CompareVersions("1.0.0-99999999999999999999", "1.0.0-100000000000000000000"); err != nil || got != -1 {
			t.Errorf("got %d, %v; want -1", got, err)
		}
	})
	t.Run("bad version", func(t *testing.T) {
		if _, err := CompareVersions("1.0.0", "1.0"); err == nil {
			t.Error("got no error, want one naming 1.0")
		}
	})
}
