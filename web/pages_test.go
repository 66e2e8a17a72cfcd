package web

import (
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// newUI is the UI over b, answering to hearth.local.
func newUI(t *testing.T, b Backend) *UI {
	t.Helper()
	u, err := New(Config{Backend: b, AllowedHosts: func() []string { return []string{"hearth.local", "localhost"} },
		BoxName: func() string { return "hearth" }, RootCA: []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"),
		RootCAFingerprint: "ab:cd:ef"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// volatile are the parts of a page that differ between runs: the tokens
// made with the process's random key.
var volatile = regexp.MustCompile(`name="(csrf|pending)" value="[^"]*"`)

// normalize blanks the volatile parts and breaks the page before each
// tag, so that a golden file's diff shows lines.
func normalize(body string) string {
	body = volatile.ReplaceAllString(body, `name="$1" value="TOKEN"`)
	return strings.ReplaceAll(body, "><", ">\n<") + "\n"
}

// Every page renders as its golden file says, for owners, members and the
// wizard's visitors.
func TestPagesGolden(t *testing.T) {
	running := func(b *testBackend) {
		b.Ops = map[string]api.Operation{"op-7": {ID: "op-7", App: "vaultwarden", Kind: "install", State: "running", Started: apitest.T0,
			Steps: []api.Step{{Name: "prepare", State: "done"}, {Name: "pull", State: "running"}, {Name: "start", State: "pending"}, {Name: "verify", State: "pending"}}}}
	}
	done := func(b *testBackend) {
		b.Ops = map[string]api.Operation{"op-8": {ID: "op-8", App: "nextcloud", Kind: "update", State: "done", Started: apitest.T0, Ended: apitest.T0,
			Steps: []api.Step{{Name: "pull", State: "done"}, {Name: "switch", State: "done"}, {Name: "verify", State: "done"}}}}
	}
	failed := func(b *testBackend) {
		b.Ops = map[string]api.Operation{"op-9": {ID: "op-9", App: "nextcloud", Kind: "update", State: "rolledback", Error: "health check failed: the app did not answer in 3m0s",
			Started: apitest.T0, Ended: apitest.T0, Steps: []api.Step{{Name: "pull", State: "done"}, {Name: "switch", State: "undone"}, {Name: "verify", State: "failed"}}}}
	}
	wizard := func(st api.SetupState) func(*testBackend) {
		return func(b *testBackend) { b.unclaimed().at(st) }
	}
	totp := func(b *testBackend) { b.users["ada"].totp = true }
	noApps := func(b *testBackend) { b.Installed = nil }
	for _, c := range []struct {
		name   string
		prep   func(*testBackend)
		user   string // signed in as, "" = nobody
		setup  bool   // with the setup cookie
		method string
		path   string
		form   url.Values
		status int
	}{
		{name: "wizard-welcome", prep: wizard(api.SetupState{Step: api.StepWelcome}), path: "/setup/welcome", status: 200},
		{name: "wizard-code", prep: wizard(api.SetupState{Step: api.StepWelcome}), path: "/setup/code", status: 200},
		{name: "wizard-code-wrong", prep: wizard(api.SetupState{Step: api.StepWelcome}), method: "POST", path: "/setup/code",
			form: url.Values{"code": {"WRONG"}}, status: 401},
		{name: "wizard-owner", prep: wizard(api.SetupState{Step: api.StepOwner}), setup: true, path: "/setup/owner", status: 200},
		{name: "wizard-owner-weak", prep: wizard(api.SetupState{Step: api.StepOwner}), setup: true, method: "POST", path: "/setup/owner",
			form: url.Values{"name": {"ada"}, "password": {"short"}, "password2": {"short"}}, status: 400},
		{name: "wizard-box", prep: wizard(api.SetupState{Step: api.StepBox, Owner: "ada"}), setup: true, path: "/setup/box", status: 200},
		{name: "wizard-box-bad-zone", prep: wizard(api.SetupState{Step: api.StepBox, Owner: "ada"}), setup: true, method: "POST", path: "/setup/box",
			form: url.Values{"name": {"home"}, "timezone": {"Mars/Olympus"}}, status: 400},
		{name: "wizard-access", prep: wizard(api.SetupState{Step: api.StepAccess, Owner: "ada", BoxName: "home"}), setup: true, path: "/setup/access", status: 200},
		{name: "wizard-backup", prep: wizard(api.SetupState{Step: api.StepBackup, Owner: "ada", BoxName: "home"}), setup: true, path: "/setup/backup", status: 200},
		{name: "wizard-apps", prep: wizard(api.SetupState{Step: api.StepBackup, Owner: "ada", BoxName: "home"}), setup: true, path: "/setup/apps", status: 200},
		{name: "wizard-done", prep: wizard(api.SetupState{Step: api.StepDone, Owner: "ada", BoxName: "home", Timezone: "Europe/Berlin",
			Access: api.AccessLAN, Apps: []string{"vaultwarden"}}), setup: true, path: "/setup/done", status: 200},
		{name: "setup-after-claim", path: "/setup/owner", status: 410},
		{name: "signin", path: "/signin?next=/store", status: 200},
		{name: "signin-totp", prep: totp, method: "POST", path: "/signin", form: url.Values{"user": {"ada"}, "password": {"correct horse"}}, status: 200},
		{name: "signin-wrong", method: "POST", path: "/signin", form: url.Values{"user": {"ada"}, "password": {"wrong"}}, status: 401},
		{name: "home-owner", user: "ada", path: "/", status: 200},
		{name: "home-member", user: "bob", path: "/", status: 200},
		{name: "home-empty", prep: noApps, user: "ada", path: "/", status: 200},
		{name: "store", user: "ada", path: "/store", status: 200},
		{name: "store-category", user: "ada", path: "/store?category=security", status: 200},
		{name: "store-search", user: "ada", path: "/store?q=notes", status: 200},
		{name: "store-app", user: "ada", path: "/store/official/vaultwarden", status: 200},
		{name: "store-app-third-party", user: "ada", path: "/store/friends/pinboard", status: 200},
		{name: "store-app-member", user: "bob", path: "/store/official/vaultwarden", status: 200},
		{name: "operation-running", prep: running, user: "ada", path: "/ops/op-7", status: 200},
		{name: "operation-done", prep: done, user: "ada", path: "/ops/op-8", status: 200},
		{name: "operation-rolledback", prep: failed, user: "ada", path: "/ops/op-9", status: 200},
		{name: "app-owner", user: "ada", path: "/apps/nextcloud", status: 200},
		{name: "app-busy", user: "ada", path: "/apps/vaultwarden", status: 200},
		{name: "app-member", user: "bob", path: "/apps/nextcloud", status: 200},
		{name: "settings-owner", user: "ada", path: "/settings", status: 200},
		{name: "settings-member", user: "bob", path: "/settings", status: 200},
		{name: "settings-totp-enrol", user: "ada", method: "POST", path: "/settings/totp/enrol", status: 200},
		{name: "not-found", user: "ada", path: "/nothing", status: 404},
		{name: "member-refused", user: "bob", method: "POST", path: "/store/official/vaultwarden/install", status: 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newTestBackend()
			if c.prep != nil {
				c.prep(b)
			}
			u := newUI(t, b)
			var cookies []*http.Cookie
			binding := ""
			if c.user != "" {
				tok := b.signIn(c.user, "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0")
				cookies = append(cookies, &http.Cookie{Name: "hearth_session", Value: tok})
				binding = cookieSession + "\x00" + tok
			}
			if c.setup {
				cookies = append(cookies, &http.Cookie{Name: "hearth_setup", Value: "setup-token"})
				if binding == "" {
					binding = cookieSetup + "\x00setup-token"
				}
			}
			if binding == "" {
				cookies = append(cookies, &http.Cookie{Name: "hearth_csrf", Value: "pre"})
				binding = cookieCSRF + "\x00pre"
			}
			method := c.method
			if method == "" {
				method = http.MethodGet
			}
			var req *http.Request
			if method == http.MethodPost {
				form := url.Values{}
				for k, v := range c.form {
					form[k] = v
				}
				form.Set(csrfField, u.csrfToken(binding))
				req = httptest.NewRequest(method, c.path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else {
				req = httptest.NewRequest(method, c.path, nil)
			}
			req.Host = "hearth.local"
			for _, ck := range cookies {
				req.AddCookie(ck)
			}
			rec := httptest.NewRecorder()
			u.ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Fatalf("got status %d, want %d; body:\n%s", rec.Code, c.status, rec.Body)
			}
			got := normalize(rec.Body.String())
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./web -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("page differs from %s (-want +got):\n%s", path, diff)
			}
		})
	}
}
