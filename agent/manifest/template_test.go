package manifest

import (
	"errors"
	"testing"
)

func TestExpand(t *testing.T) {
	m := parseFile(t, "testdata/valid/full.json")
	v := Values{"admin_email": "me@example.net", "mode": "safe", "api_token": "t0k"}
	app := AppContext{Domain: "ex.example.net", URL: "https://ex.example.net", DataDir: "/srv/hearth/apps/example",
		Hosts: map[string]string{"store": "example-store"}}
	tests := []struct {
		name    string
		in      string
		v       Values
		app     AppContext
		want    string
		wantRef string // the reference the error names; "" for no error
	}{
		{name: "plain", in: "no references", want: "no references"},
		{name: "empty", in: "", want: ""},
		{name: "setting", in: "mode={{settings.mode}}!", want: "mode=safe!"},
		{name: "spaces inside", in: "{{  settings.admin_email }}", want: "me@example.net"},
		{name: "app fields", in: "{{app.url}} {{app.domain}} {{app.dataDir}}", want: "https://ex.example.net ex.example.net /srv/hearth/apps/example"},
		{name: "service host", in: "http://{{services.store.host}}:9000", want: "http://example-store:9000"},
		{name: "service host by name", in: "{{services.web.host}}", want: "web"},
		{name: "literal braces", in: `{{"{{"}}name}}`, want: "{{name}}"},
		{name: "closing braces alone", in: "a }} b", want: "a }} b"},
		{name: "value is not expanded again", in: "{{settings.mode}}", v: Values{"mode": "{{app.url}}"}, want: "{{app.url}}"},
		{name: "unknown setting", in: "{{settings.colour}}", wantRef: "settings.colour"},
		{name: "setting without a value", in: "{{settings.workers}}", wantRef: "settings.workers"},
		{name: "unknown app field", in: "x {{app.name}}", wantRef: "app.name"},
		{name: "unknown service", in: "{{services.db.host}}", wantRef: "services.db.host"},
		{name: "service field other than host", in: "{{services.store.port}}", wantRef: "services.store.port"},
		{name: "unknown root", in: "{{env.HOME}}", wantRef: "env.HOME"},
		{name: "empty reference", in: "{{}}", wantRef: ""},
		{name: "not closed", in: "{{app.url", wantRef: "app.url"},
		{name: "app field not known", in: "{{app.domain}}", app: AppContext{URL: "https://x"}, wantRef: "app.domain"},
		{name: "function call", in: `{{settings.mode | upper}}`, wantRef: "settings.mode | upper"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vals, ctx := v, app
			if tc.v != nil {
				vals = tc.v
			}
			if tc.app.URL != "" {
				ctx = tc.app
			}
			got, err := m.Expand(tc.in, vals, ctx)
			wantErr := tc.wantRef != "" || tc.name == "empty reference"
			if !wantErr {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want %q, no error", got, err, tc.want)
				}
				return
			}
			var te *TemplateError
			if !errors.As(err, &te) || !errors.Is(err, ErrTemplate) {
				t.Fatalf("got %q, %v; want a *TemplateError matching ErrTemplate", got, err)
			}
			if te.Ref != tc.wantRef {
				t.Errorf("got reference %q named, want %q (%v)", te.Ref, tc.wantRef, err)
			}
		})
	}
}
