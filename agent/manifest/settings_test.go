package manifest

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func parseFile(t *testing.T, name string) *Manifest {
	t.Helper()
	m, err := Parse(readFile(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestResolveSettings(t *testing.T) {
	m := parseFile(t, "testdata/valid/full.json")
	fixed := func(Setting) (string, error) { return strings.Repeat("k", 32), nil }
	tests := []struct {
		name  string
		given Values
		gen   func(Setting) (string, error)
		want  Values
		// wantErrs maps setting ids to part of their reason.
		wantErrs map[string]string
	}{
		{
			name:  "defaults and generated",
			given: Values{"admin_email": "me@example.net", "admin_password": "pw"},
			gen:   fixed,
			want: Values{"admin_email": "me@example.net", "admin_password": "pw", "api_token": strings.Repeat("k", 32),
				"mode": "safe", "workers": "4", "debug": "false", "site_name": "My site", "motd": "", "homepage": ""},
		},
		{
			name: "given values win, a given secret is kept",
			given: Values{"admin_email": "me@example.net", "admin_password": "pw", "api_token": "kept-from-install",
				"mode": "fast", "workers": "16", "debug": "true", "site_name": "Home", "motd": "line 1\nline 2", "homepage": "http://example.net/x"},
			gen: func(Setting) (string, error) { return "", errors.New("must not be called") },
			want: Values{"admin_email": "me@example.net", "admin_password": "pw", "api_token": "kept-from-install",
				"mode": "fast", "workers": "16", "debug": "true", "site_name": "Home", "motd": "line 1\nline 2", "homepage": "http://example.net/x"},
		},
		{
			name:     "required missing",
			given:    Values{"admin_email": "me@example.net", "admin_password": ""},
			gen:      fixed,
			wantErrs: map[string]string{"admin_password": "is required"},
		},
		{
			name: "wrong types, all named",
			given: Values{"admin_email": "not-an-email", "admin_password": "pw\n", "mode": "slow", "workers": "1e3",
				"debug": "yes", "site_name": "Home 2", "homepage": "ftp://example.net", "colour": "red"},
			gen: fixed,
			wantErrs: map[string]string{
				"admin_email":    "not an email address",
				"admin_password": "one line",
				"mode":           `"slow" is not one of fast, safe`,
				"workers":        "not a decimal number",
				"debug":          "must be true or false",
				"site_name":      "does not match the pattern",
				"homepage":       "not an http or https URL",
				"colour":         "no such setting",
			},
		},
		{
			name:     "number out of range",
			given:    Values{"admin_email": "me@example.net", "admin_password": "pw", "workers": "0"},
			gen:      fixed,
			wantErrs: map[string]string{"workers": "less than the minimum 1"},
		},
		{
			name:     "generator failing",
			given:    Values{"admin_email": "me@example.net", "admin_password": "pw"},
			gen:      func(Setting) (string, error) { return "", errors.New("no entropy") },
			wantErrs: map[string]string{"api_token": "cannot generate: no entropy"},
		},
		{
			name:     "generator breaking the charset",
			given:    Values{"admin_email": "me@example.net", "admin_password": "pw"},
			gen:      func(Setting) (string, error) { return strings.Repeat("!", 32), nil },
			wantErrs: map[string]string{"api_token": "outside the alnum charset"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.ResolveSettings(tc.given, tc.gen)
			gotErrs := map[string]string{}
			for _, e := range leafErrors(err) {
				var se *SettingError
				if !errors.As(e, &se) || !errors.Is(e, ErrSetting) {
					t.Fatalf("got %T %v, want a *SettingError matching ErrSetting", e, e)
				}
				gotErrs[se.Setting] = se.Reason
			}
			if diff := cmp.Diff(keys(tc.wantErrs), keys(gotErrs)); diff != "" {
				t.Fatalf("settings in error (-want +got):\n%s\nerror: %v", diff, err)
			}
			for id, want := range tc.wantErrs {
				if !strings.Contains(gotErrs[id], want) {
					t.Errorf("%s: got %q, want it to contain %q", id, gotErrs[id], want)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGenerateSecret: values match the charset and length, and differ from
// call to call (with the default generator, through ResolveSettings too).
func TestGenerateSecret(t *testing.T) {
	for _, tc := range []struct {
		charset string
		length  int
		re      string
	}{
		{CharsetAlnum, 32, `^[A-Za-z0-9]{32}$`},
		{CharsetHex, 64, `^[0-9a-f]{64}$`},
		{CharsetBase64URL, 48, `^[A-Za-z0-9_-]{48}$`},
	} {
		t.Run(tc.charset, func(t *testing.T) {
			s := Setting{ID: "key", Type: TypeSecret, Generate: &Generate{Length: tc.length, Charset: tc.charset}}
			re := regexp.MustCompile(tc.re)
			seen := map[string]bool{}
			for range 20 {
				v, err := GenerateSecret(s)
				if err != nil {
					t.Fatal(err)
				}
				if !re.MatchString(v) {
					t.Fatalf("got %q, want a match for %s", v, tc.re)
				}
				if seen[v] {
					t.Fatalf("got %q twice, want a new value each call", v)
				}
				seen[v] = true
			}
		})
	}
	t.Run("through ResolveSettings", func(t *testing.T) {
		m := parseFile(t, "testdata/valid/full.json")
		given := Values{"admin_email": "me@example.net", "admin_password": "pw"}
		a, err := m.ResolveSettings(given, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.ResolveSettings(given, nil)
		if err != nil {
			t.Fatal(err)
		}
		if a["api_token"] == b["api_token"] || len(a["api_token"]) != 32 {
			t.Errorf("got %q and %q, want two different 32-character secrets", a["api_token"], b["api_token"])
		}
	})
	t.Run("no generate", func(t *testing.T) {
		if _, err := GenerateSecret(Setting{ID: "key", Type: TypeSecret}); err == nil {
			t.Error("got no error, want one for a setting without generate")
		}
	})
}
