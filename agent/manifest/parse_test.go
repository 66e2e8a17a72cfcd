package manifest

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// summary is what the golden files hold: the manifest as Marshal writes it
// back, and what the helpers derive from it.
type summary struct {
	Manifest     *Manifest        `json:"manifest"`
	Platforms    []string         `json:"platforms"`
	HTTPService  string           `json:"httpService"`
	HTTPPort     int              `json:"httpPort"`
	StartOrder   []string         `json:"startOrder"`
	MemoryLimits map[string]int64 `json:"memoryLimits"`
}

func summarize(t *testing.T, m *Manifest) []byte {
	t.Helper()
	order, err := m.StartOrder()
	if err != nil {
		t.Fatalf("StartOrder: %v", err)
	}
	name, port, _ := m.HTTPService()
	b, err := json.MarshalIndent(summary{m, m.Platforms(), name, port, order, m.MemoryLimits()}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// roundTrip checks that what Marshal writes parses back to the same manifest.
func roundTrip(t *testing.T, m *Manifest) {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	again, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse(Marshal(m)): %v\n%s", err, b)
	}
	if diff := cmp.Diff(m, again, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Parse(Marshal(m)) differs (-want +got):\n%s", diff)
	}
}

func TestParseValid(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("got %d files (%v), want testdata/valid/*.json", len(files), err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			m, err := Parse(readFile(t, f))
			if err != nil {
				t.Fatalf("Parse: got %v, want no error", err)
			}
			golden(t, "valid_"+name, summarize(t, m))
			roundTrip(t, m)
		})
	}
}

func TestParseSyntax(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		line, col  int
		wantReason string
	}{
		{"empty", "", 1, 1, "unexpected end of input"},
		{"truncated", "{\n  \"id\": \"a\",\n", 3, 1, "unexpected end of input"},
		{"bad character", "{\n  \"id\": x\n}", 2, 9, "invalid character 'x'"},
		{"missing comma", "{\"id\": \"a\"\n \"title\": \"b\"}", 2, 2, "invalid character '\"' after object key:value pair"},
		{"trailing comma", "{\"id\": \"a\",}", 1, 12, "invalid character '}'"},
		{"two values", "{}\n\n  {}", 3, 3, "only one JSON value is allowed"},
		{"trailing garbage", "{} x", 1, 4, "only one JSON value is allowed"},
		{"too deep", "{\"a\":" + strings.Repeat("[", 20) + strings.Repeat("]", 20) + "}", 1, 22, "nested deeper than 16 levels"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *SyntaxError", err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want it to match ErrInvalid", err)
			}
			if se.Line != tc.line || se.Column != tc.col {
				t.Errorf("got line %d column %d, want line %d column %d (%v)", se.Line, se.Column, tc.line, tc.col, se)
			}
			if !strings.Contains(se.Reason, tc.wantReason) {
				t.Errorf("got reason %q, want it to contain %q", se.Reason, tc.wantReason)
			}
		})
	}
}

// TestParseStructural: unknown fields, nulls, wrong types and duplicate keys
// are all reported at once, each with its path.
func TestParseStructural(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string // path -> part of the reason
	}{
		{
			name: "not an object",
			in:   `[1]`,
			want: map[string]string{"": "must be a JSON object, not a list"},
		},
		{
			name: "several at once",
			in: `{"manifestVersion": 1, "id": "a", "titel": "x", "tagline": null,
				"services": {"web": {"image": {"ref": 3}, "httpport": 80, "volumes": {}}},
				"resources": {"memoryMin": 64, "memoryLimit": "64M"},
				"settings": [{"id": "x", "default": [1]}], "permissions": ["lan", 2]}`,
			want: map[string]string{
				"titel":                  `unknown field (did you mean "title"?)`,
				"tagline":                "must not be null",
				"services.web.image.ref": "must be a string, not a number",
				"services.web.httpport":  `did you mean "httpPort"?`,
				"services.web.volumes":   "must be a list, not an object",
				"resources.memoryMin":    `must be a string such as "256Mi"`,
				"resources.memoryLimit":  `unit "M": use an IEC unit`,
				"settings[0].default":    "must be a string, a number or a boolean",
				"permissions[1]":         "must be a string, not a number",
			},
		},
		{
			name: "duplicate keys",
			in:   `{"id": "a", "services": {"web": {}, "web": {}}, "id": "b", "idd": 1}`,
			want: map[string]string{"services.web": "appears more than once", "id": "appears more than once", "idd": `did you mean "id"?`},
		},
		{
			name: "numbers",
			in: `{"manifestVersion": 1.5, "resources": {"cpuWeight": 1e3},
				"services": {"a": {"httpPort": 99999999999}}, "settings": [{"min": "1"}]}`,
			want: map[string]string{
				"manifestVersion":     "must be a whole number",
				"resources.cpuWeight": "must be a whole number",
				"services.a.httpPort": "must be a whole number between",
				"settings[0].min":     "must be a number, not a string",
			},
		},
		{
			name: "durations and booleans",
			in: `{"services": {"a": {"healthCheck": {"interval": 30, "timeout": "-1s", "startPeriod": "soon"},
				"volumes": [{"readOnly": "yes"}]}}}`,
			want: map[string]string{
				"services.a.healthCheck.interval":    `must be a string such as "30s"`,
				"services.a.healthCheck.timeout":     "must not be negative",
				"services.a.healthCheck.startPeriod": "want a Go duration",
				"services.a.volumes[0].readOnly":     "must be true or false",
			},
		},
		{
			name: "odd keys are quoted",
			in:   `{"services": {"a": {"image": {"platforms": {"linux/amd64": 1}}, "environment": {"A.B": 2}}}}`,
			want: map[string]string{
				`services.a.image.platforms["linux/amd64"]`: "must be a string",
				`services.a.environment["A.B"]`:             "must be a string",
			},
		},
		{
			name: "unknown addon",
			in:   `{"addons": {"postgres": {}, "localstorage": {"size": "1Gi"}}}`,
			want: map[string]string{
				"addons.postgres":          `did you mean "postgresql"?`,
				"addons.localstorage.size": "this object has no fields",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
			got := map[string]string{}
			for _, e := range leafErrors(err) {
				var fe *FieldError
				if !errors.As(e, &fe) {
					t.Fatalf("got %T %v, want *FieldError", e, e)
				}
				got[fe.Path] = fe.Reason
			}
			if diff := cmp.Diff(keys(tc.want), keys(got)); diff != "" {
				t.Fatalf("paths (-want +got):\n%s\nerror: %v", diff, err)
			}
			for p, want := range tc.want {
				if !strings.Contains(got[p], want) {
					t.Errorf("%s: got %q, want it to contain %q", p, got[p], want)
				}
			}
		})
	}
}

func keys(m map[string]string) []string { return sortedKeys(m) }

func TestParseTooLarge(t *testing.T) {
	big := `{"description": "` + strings.Repeat("x", MaxSize) + `"}`
	_, err := Parse([]byte(big))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "more than the 262144 allowed") {
		t.Errorf("got %v, want ErrInvalid naming the size limit", err)
	}
}

// TestParseCollectsRules: a structurally sound manifest with several broken
// rules reports each of them.
func TestParseCollectsRules(t *testing.T) {
	in := `{"manifestVersion": 2, "id": "Bad_Id", "title": "", "version": "1.0", "tagline": "t", "icon": "/icon.svg",
		"category": "games", "services": {}, "resources": {"memoryMin": "1Gi", "memoryLimit": "512Mi"}}`
	_, err := Parse([]byte(in))
	want := []string{"category", "icon", "id", "manifestVersion", "resources.memoryLimit", "services", "title", "version"}
	if diff := cmp.Diff(want, fieldPaths(t, err)); diff != "" {
		t.Errorf("paths (-want +got):\n%s\nerror: %v", diff, err)
	}
}
