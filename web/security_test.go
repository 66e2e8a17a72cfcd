package web

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
)

// browser is a client with cookies against a real HTTP server of the UI.
type browser struct {
	t    *testing.T
	srv  *httptest.Server
	c    *http.Client
	last string // the last page's body

	lastLocation string // the last response's Location header
}

func newBrowser(t *testing.T, u *UI, tlsServer bool) *browser {
	t.Helper()
	var srv *httptest.Server
	if tlsServer {
		srv = httptest.NewTLSServer(u)
	} else {
		srv = httptest.NewServer(u)
	}
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, srv: srv, c: c}
}

func (b *browser) do(req *http.Request) *http.Response {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b.last = string(body)
	b.lastLocation = resp.Header.Get("Location")
	return resp
}

func (b *browser) get(path string, headers ...string) *http.Response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token is the CSRF token of the last page.
func (b *browser) token() string {
	b.t.Helper()
	m := csrfRE.FindStringSubmatch(b.last)
	if m == nil {
		b.t.Fatalf("no csrf token on the page:\n%s", b.last)
	}
	return m[1]
}

// post sends a form (with the last page's CSRF token unless form sets one).
func (b *browser) post(path string, form url.Values, headers ...string) *http.Response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form[csrfField]; !ok {
		form.Set(csrfField, b.token())
	}
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

func wantStatus(t *testing.T, resp *http.Response, want int, body string) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: got status %d, want %d\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want, body)
	}
}

// signIn signs b in as user through the sign-in form.
func (b *browser) signIn(user, password string) {
	b.t.Helper()
	wantStatus(b.t, b.get("/signin"), 200, b.last)
	resp := b.post("/signin", url.Values{"user": {user}, "password": {password}})
	wantStatus(b.t, resp, http.StatusSeeOther, b.last)
}

// The Host header must name the box (or be an IP literal): other names,
// as DNS rebinding would send, get 421.
func TestForeignHostRefused(t *testing.T) {
	u := newUI(t, newTestBackend())
	for _, c := range []struct {
		host string
		want int
	}{
		{"hearth.local", http.StatusSeeOther},
		{"HEARTH.local:8080", http.StatusSeeOther},
		{"hearth.local.", http.StatusSeeOther},
		{"localhost:8080", http.StatusSeeOther},
		{"192.168.1.20", http.StatusSeeOther},
		{"[::1]:8080", http.StatusSeeOther},
		{"evil.example", http.StatusMisdirectedRequest},
		{"hearth.local.evil.example", http.StatusMisdirectedRequest},
		{"", http.StatusMisdirectedRequest},
	} {
		t.Run(c.host, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Host = c.host
			rec := httptest.NewRecorder()
			u.ServeHTTP(rec, req)
			if rec.Code != c.want {
				t.Errorf("got status %d, want %d", rec.Code, c.want)
			}
			if got := rec.Header().Get("Content-Security-Policy"); got != contentSecurityPolicy {
				t.Errorf("got CSP %q, want %q", got, contentSecurityPolicy)
			}
		})
	}
}

// Every response carries the security headers: pages, files, errors.
func TestSecurityHeaders(t *testing.T) {
	b := newBrowser(t, newUI(t, newTestBackend()), false)
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
	}
	for _, path := range []string{"/signin", "/static/app.js", "/static/app.css", "/nothing", "/", "/store"} {
		t.Run(path, func(t *testing.T) {
			resp := b.get(path)
			for k, v := range want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: got %q, want %q", k, got, v)
				}
			}
			if resp.Header.Get("Permissions-Policy") == "" {
				t.Error("got no Permissions-Policy")
			}
			if strings.Contains(b.last, "<script>") || strings.Contains(b.last, " style=") || strings.Contains(b.last, "<style") {
				t.Errorf("page has inline script or style:\n%s", b.last)
			}
		})
	}
}

// Unsafe requests need the CSRF token of their own session and must come
// from this origin.
func TestUnsafeRequestsChecked(t *testing.T) {
	for _, c := range []struct {
		name    string
		form    url.Values
		headers []string
		want    int
	}{
		{name: "valid", want: http.StatusSeeOther},
		{name: "valid same-origin", headers: []string{"Sec-Fetch-Site", "same-origin"}, want: http.StatusSeeOther},
		{name: "missing token", form: url.Values{csrfField: nil}, want: http.StatusForbidden},
		{name: "wrong token", form: url.Values{csrfField: {"AAAA"}}, want: http.StatusForbidden},
		{name: "cross origin", headers: []string{"Origin", "http://evil.example"}, want: http.StatusForbidden},
		{name: "null origin from a no-referrer page", headers: []string{"Origin", "null", "Sec-Fetch-Site", "same-origin"}, want: http.StatusSeeOther},
		{name: "null origin cross site", headers: []string{"Origin", "null", "Sec-Fetch-Site", "cross-site"}, want: http.StatusForbidden},
		{name: "null origin without token", form: url.Values{csrfField: nil}, headers: []string{"Origin", "null"}, want: http.StatusForbidden},
		{name: "cross site fetch", headers: []string{"Sec-Fetch-Site", "cross-site"}, want: http.StatusForbidden},
		{name: "same site fetch", headers: []string{"Sec-Fetch-Site", "same-site"}, want: http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			be := newTestBackend()
			b := newBrowser(t, newUI(t, be), false)
			b.signIn("ada", "correct horse")
			wantStatus(t, b.get("/store/official/vaultwarden"), 200, b.last)
			form := url.Values{}
			for k, v := range c.form {
				form[k] = v
			}
			if v, ok := c.form[csrfField]; ok && v == nil {
				form.Set(csrfField, "")
			}
			resp := b.post("/store/official/vaultwarden/install", form, c.headers...)
			wantStatus(t, resp, c.want, b.last)
			installed := false
			for _, call := range be.Calls() {
				installed = installed || call.Method == "Install"
			}
			if installed != (c.want == http.StatusSeeOther) {
				t.Errorf("got Install called %v, want %v", installed, c.want == http.StatusSeeOther)
			}
		})
	}
	t.Run("same origin header", func(t *testing.T) {
		b := newBrowser(t, newUI(t, newTestBackend()), false)
		b.signIn("ada", "correct horse")
		wantStatus(t, b.get("/store/official/vaultwarden"), 200, b.last)
		wantStatus(t, b.post("/store/official/vaultwarden/install", nil, "Origin", b.srv.URL), http.StatusSeeOther, b.last)
	})
	t.Run("token of another session", func(t *testing.T) {
		be := newTestBackend()
		u := newUI(t, be)
		other := newBrowser(t, u, false)
		other.signIn("ada", "correct horse")
		wantStatus(t, other.get("/store/official/vaultwarden"), 200, other.last)
		b := newBrowser(t, u, false)
		b.signIn("ada", "correct horse")
		wantStatus(t, b.post("/store/official/vaultwarden/install", url.Values{csrfField: {other.token()}}), http.StatusForbidden, b.last)
	})
}

// Members open apps; they cannot install, manage apps or people.
func TestMemberRefused(t *testing.T) {
	b := newBrowser(t, newUI(t, newTestBackend()), false)
	b.signIn("bob", "battery staple")
	wantStatus(t, b.get("/"), 200, b.last)
	for _, c := range []struct{ method, path string }{
		{"POST", "/store/official/vaultwarden/install"},
		{"POST", "/apps/nextcloud/stop"},
		{"POST", "/apps/nextcloud/uninstall"},
		{"POST", "/settings/users"},
		{"POST", "/settings/users/ada/remove"},
		{"GET", "/apps/nextcloud/logs"},
		{"GET", "/ops/op-1"},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			wantStatus(t, b.get("/settings"), 200, b.last)
			var resp *http.Response
			if c.method == "POST" {
				resp = b.post(c.path, url.Values{"data": {"keep"}, "name": {"eve"}, "password": {"long enough"}, "role": {"owner"}})
			} else {
				resp = b.get(c.path)
			}
			wantStatus(t, resp, http.StatusForbidden, b.last)
		})
	}
}

// Over plain HTTP the session cookie is hearth_session, HttpOnly and
// SameSite=Strict; over HTTPS it is __Host-hearth_session and Secure too.
// Signing in rotates it.
func TestSessionCookie(t *testing.T) {
	for _, c := range []struct {
		name   string
		tls    bool
		cookie string
	}{{"http", false, "hearth_session"}, {"https", true, "__Host-hearth_session"}} {
		t.Run(c.name, func(t *testing.T) {
			be := newTestBackend()
			b := newBrowser(t, newUI(t, be), c.tls)
			wantStatus(t, b.get("/signin"), 200, b.last)
			resp := b.post("/signin", url.Values{"user": {"ada"}, "password": {"correct horse"}, "next": {"//evil.example/x"}})
			wantStatus(t, resp, http.StatusSeeOther, b.last)
			if got := resp.Header.Get("Location"); got != "/" {
				t.Errorf("got redirect to %q, want / (no open redirect)", got)
			}
			var sess *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == c.cookie {
					sess = ck
				}
			}
			if sess == nil {
				t.Fatalf("got cookies %v, want %s", resp.Cookies(), c.cookie)
			}
			if !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Secure != c.tls || sess.Path != "/" || sess.Domain != "" {
				t.Errorf("got cookie %+v, want HttpOnly, SameSite=Strict, Secure=%v, Path=/, no Domain", sess, c.tls)
			}
			first := sess.Value
			// Signing in again replaces the session and ends the old one.
			wantStatus(t, b.get("/signin?next=/settings"), http.StatusSeeOther, b.last)
			wantStatus(t, b.get("/settings"), 200, b.last)
			resp = b.post("/signin", url.Values{"user": {"ada"}, "password": {"correct horse"}})
			wantStatus(t, resp, http.StatusSeeOther, b.last)
			if _, err := be.Authenticate(t.Context(), first); err == nil {
				t.Error("got the first session alive after signing in again, want it ended")
			}
		})
	}
	t.Run("tls request with Secure unset", func(t *testing.T) {
		u := newUI(t, newTestBackend())
		req := httptest.NewRequest(http.MethodGet, "/signin", nil)
		req.Host = "hearth.local"
		req.TLS = &tls.ConnectionState{}
		rec := httptest.NewRecorder()
		u.ServeHTTP(rec, req)
		cks := rec.Result().Cookies()
		if len(cks) != 1 || cks[0].Name != "__Host-hearth_csrf" || !cks[0].Secure {
			t.Errorf("got cookies %v, want one Secure __Host-hearth_csrf", cks)
		}
	})
}

// Wrong passwords answer 401, then the backend's lockout 429 with
// Retry-After; a revoked session stops working at once.
func TestSignInLockoutAndRevoke(t *testing.T) {
	be := newTestBackend()
	u := newUI(t, be)
	b := newBrowser(t, u, false)
	wantStatus(t, b.get("/signin"), 200, b.last)
	for range 3 {
		wantStatus(t, b.post("/signin", url.Values{"user": {"ada"}, "password": {"wrong"}}), http.StatusUnauthorized, b.last)
	}
	resp := b.post("/signin", url.Values{"user": {"ada"}, "password": {"correct horse"}})
	wantStatus(t, resp, http.StatusTooManyRequests, b.last)
	if got := resp.Header.Get("Retry-After"); got != "30" {
		t.Errorf("got Retry-After %q, want 30", got)
	}
	if !strings.Contains(b.last, "Too many attempts. Wait 30s") {
		t.Errorf("got page without the wait:\n%s", b.last)
	}

	phone := newBrowser(t, u, false)
	phone.signIn("bob", "battery staple")
	laptop := newBrowser(t, u, false)
	laptop.signIn("bob", "battery staple")
	wantStatus(t, laptop.get("/settings"), 200, laptop.last)
	sessions, err := be.Sessions(t.Context(), "bob")
	if err != nil || len(sessions) != 2 {
		t.Fatalf("got sessions %v, %v, want 2", sessions, err)
	}
	wantStatus(t, laptop.post("/settings/sessions/"+sessions[0].ID+"/revoke", nil), http.StatusSeeOther, laptop.last)
	resp = phone.get("/settings")
	wantStatus(t, resp, http.StatusSeeOther, phone.last)
	if got := resp.Header.Get("Location"); !strings.HasPrefix(got, "/signin") {
		t.Errorf("got revoked session sent to %q, want /signin", got)
	}
	wantStatus(t, laptop.get("/settings"), 200, laptop.last)
}

// TOTP: enrol (QR code and URI), confirm, then signing in asks for the code.
func TestTOTPEnrolAndSignIn(t *testing.T) {
	be := newTestBackend()
	u := newUI(t, be)
	b := newBrowser(t, u, false)
	b.signIn("ada", "correct horse")
	wantStatus(t, b.get("/settings"), 200, b.last)
	wantStatus(t, b.post("/settings/totp/enrol", nil), 200, b.last)
	for _, want := range []string{"<svg", "otpauth://totp/Hearth:ada", "JBSWY3DPEHPK3PXP"} {
		if !strings.Contains(b.last, want) {
			t.Errorf("enrolment page lacks %q", want)
		}
	}
	wantStatus(t, b.post("/settings/totp/confirm", url.Values{"code": {"000000"}}), http.StatusBadRequest, b.last)
	wantStatus(t, b.post("/settings/totp/confirm", url.Values{"code": {testTOTP}}), http.StatusSeeOther, b.last)

	c := newBrowser(t, u, false)
	wantStatus(t, c.get("/signin"), 200, c.last)
	wantStatus(t, c.post("/signin", url.Values{"user": {"ada"}, "password": {"correct horse"}}), 200, c.last)
	if !strings.Contains(c.last, `name="pending"`) {
		t.Fatalf("got no TOTP step:\n%s", c.last)
	}
	pending := regexp.MustCompile(`name="pending" value="([^"]+)"`).FindStringSubmatch(c.last)[1]
	// Another browser cannot finish this sign-in.
	d := newBrowser(t, u, false)
	wantStatus(t, d.get("/signin"), 200, d.last)
	wantStatus(t, d.post("/signin/totp", url.Values{"pending": {pending}, "totp": {testTOTP}}), http.StatusUnauthorized, d.last)
	// This one can, once: the first try above did not consume it.
	resp := c.post("/signin/totp", url.Values{"pending": {pending}, "totp": {testTOTP}})
	wantStatus(t, resp, http.StatusSeeOther, c.last)
	wantStatus(t, c.get("/settings"), 200, c.last)
	if !strings.Contains(c.last, "Two-factor sign-in is <strong>on</strong>") {
		t.Errorf("settings do not say two-factor is on:\n%s", c.last)
	}
}

// The wizard: a wrong code is refused and rate-limited, the right one
// unlocks the steps, the box is claimed and the owner signed in; after
// that, setup answers 410.
func TestWizard(t *testing.T) {
	be := newTestBackend().unclaimed()
	b := newBrowser(t, newUI(t, be), false)
	resp := b.get("/")
	wantStatus(t, resp, http.StatusSeeOther, b.last)
	if got := resp.Header.Get("Location"); got != "/setup" {
		t.Fatalf("got / redirected to %q, want /setup", got)
	}
	wantStatus(t, b.get("/setup"), http.StatusSeeOther, b.last)
	wantStatus(t, b.get("/setup/owner"), http.StatusSeeOther, b.last) // locked
	wantStatus(t, b.get("/setup/code"), 200, b.last)
	for range 3 {
		wantStatus(t, b.post("/setup/code", url.Values{"code": {"AAAA-BBBB-CC"}}), http.StatusUnauthorized, b.last)
	}
	resp = b.post("/setup/code", url.Values{"code": {"abcd efgh jk"}})
	wantStatus(t, resp, http.StatusTooManyRequests, b.last)
	if resp.Header.Get("Retry-After") != "60" {
		t.Errorf("got Retry-After %q, want 60", resp.Header.Get("Retry-After"))
	}
	be.mu.Lock()
	be.codeFails = 0
	be.mu.Unlock()
	wantStatus(t, b.post("/setup/code", url.Values{"code": {"abcd efgh jk"}}), http.StatusSeeOther, b.last)

	steps := []struct {
		path string
		form url.Values
		want int
	}{
		{"/setup/owner", url.Values{"name": {"ada"}, "password": {"a long pass phrase"}, "password2": {"another one"}}, http.StatusBadRequest},
		{"/setup/owner", url.Values{"name": {"ada"}, "password": {"a long pass phrase"}, "password2": {"a long pass phrase"}}, http.StatusSeeOther},
		{"/setup/box", url.Values{"name": {"-bad-"}, "timezone": {"UTC"}}, http.StatusBadRequest},
		{"/setup/box", url.Values{"name": {"home"}, "timezone": {"Europe/Berlin"}}, http.StatusSeeOther},
		{"/setup/access", url.Values{"mode": {"domain"}, "domain": {""}}, http.StatusBadRequest},
		{"/setup/access", url.Values{"mode": {"lan"}}, http.StatusSeeOther},
		{"/setup/apps", url.Values{"app": {"vaultwarden"}}, http.StatusSeeOther},
		{"/setup/done", nil, http.StatusSeeOther},
	}
	for _, s := range steps {
		wantStatus(t, b.get(s.path), 200, b.last)
		wantStatus(t, b.post(s.path, s.form), s.want, b.last)
	}
	be.mu.Lock()
	got := be.finished
	be.mu.Unlock()
	want := []string{"owner", "box", "access:lan", "apps:vaultwarden", "finish"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got setup calls %v, want %v", got, want)
	}
	wantStatus(t, b.get("/"), 200, b.last) // signed in as the owner
	if !strings.Contains(b.last, "Sign out ada") {
		t.Errorf("got home page not signed in as ada:\n%s", b.last)
	}
	wantStatus(t, b.get("/setup/owner"), http.StatusGone, b.last)
	wantStatus(t, b.post("/setup/code", url.Values{"code": {"ABCD-EFGH-JK"}}), http.StatusGone, b.last)
}

// The operation events are server-sent events of the backend's progress.
func TestOperationEvents(t *testing.T) {
	be := newTestBackend()
	b := newBrowser(t, newUI(t, be), false)
	b.signIn("ada", "correct horse")
	wantStatus(t, b.get("/store/official/vaultwarden"), 200, b.last)
	resp := b.post("/store/official/vaultwarden/install", nil)
	wantStatus(t, resp, http.StatusSeeOther, b.last)
	op := resp.Header.Get("Location")
	wantStatus(t, b.get(op), 200, b.last)
	if !strings.Contains(b.last, `<meta http-equiv="refresh" content="2">`) {
		t.Errorf("running operation page does not reload itself without JavaScript:\n%s", b.last)
	}
	resp = b.get(op + "/events")
	wantStatus(t, resp, 200, b.last)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("got content type %q, want text/event-stream", ct)
	}
	for _, want := range []string{`"bytesDone":52428800,"bytesTotal":104857600`, `"done":true,"state":"done"`} {
		if !strings.Contains(b.last, want) {
			t.Errorf("events lack %s:\n%s", want, b.last)
		}
	}
	if n := strings.Count(b.last, "event: progress\n"); n != 5 {
		t.Errorf("got %d progress events, want 5", n)
	}
	var calls []string
	for _, c := range be.Calls() {
		if c.Method == "Install" {
			calls = append(calls, c.Actor)
		}
	}
	if len(calls) != 1 || calls[0] != "user ada (web)" {
		t.Errorf("got Install actors %v, want [user ada (web)]", calls)
	}
}

// The access step's form becomes the request the agent's DNS providers
// read: their credential keys, and no credentials at home only.
func TestAccessRequest(t *testing.T) {
	for _, c := range []struct {
		name    string
		form    url.Values
		want    api.SetupAccessRequest
		wantErr string
	}{
		{"lan", url.Values{"mode": {"lan"}, "token": {"ignored"}}, api.SetupAccessRequest{Mode: api.AccessLAN}, ""},
		{"desec", url.Values{"mode": {"ddns"}, "domain": {"Box.dedyn.io"}, "provider": {"desec"}, "token": {"t0k"}},
			api.SetupAccessRequest{Mode: api.AccessDDNS, Domain: "box.dedyn.io", Provider: "desec", Credentials: map[string]string{"token": "t0k"}}, ""},
		{"cloudflare", url.Values{"mode": {"domain"}, "domain": {"example.org"}, "provider": {"cloudflare"}, "token": {"cf"}},
			api.SetupAccessRequest{Mode: api.AccessDomain, Domain: "example.org", Provider: "cloudflare", Credentials: map[string]string{"api_token": "cf"}}, ""},
		{"rfc2136", url.Values{"mode": {"domain"}, "domain": {"example.org"}, "provider": {"rfc2136"}, "server": {"ns:53"}, "key_name": {"k."}, "secret": {"c2VjcmV0"}},
			api.SetupAccessRequest{Mode: api.AccessDomain, Domain: "example.org", Provider: "rfc2136",
				Credentials: map[string]string{"server": "ns:53", "key_name": "k.", "secret": "c2VjcmV0"}}, ""},
		{"no mode", url.Values{}, api.SetupAccessRequest{}, "access: choose one of the three ways"},
		{"no domain", url.Values{"mode": {"domain"}, "provider": {"desec"}}, api.SetupAccessRequest{}, "domain: type the name the box is reached at"},
		{"unknown provider", url.Values{"mode": {"ddns"}, "domain": {"a.b"}, "provider": {"route53"}}, api.SetupAccessRequest{}, "DNS provider: choose one from the list"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := accessRequest(c.form)
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("got error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}
