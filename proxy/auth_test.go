package proxy

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// ticketDesk implements Sessions as the UI does (one-time tickets bound to
// a scope, with a lifetime; sessions that can be revoked), in memory.
type ticketDesk struct {
	mu      sync.Mutex
	now     time.Time
	tickets map[string]deskTicket
	revoked map[string]bool
	checks  int
}

type deskTicket struct {
	scope, session string
	expires        time.Time
}

func newTicketDesk() *ticketDesk {
	return &ticketDesk{now: time.Unix(1_700_000_000, 0), tickets: map[string]deskTicket{}, revoked: map[string]bool{}}
}

func (d *ticketDesk) mint(ticket, scope, session string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tickets[ticket] = deskTicket{scope: scope, session: session, expires: d.now.Add(60 * time.Second)}
}

func (d *ticketDesk) clock() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.now
}

func (d *ticketDesk) advance(by time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.now = d.now.Add(by)
}

func (d *ticketDesk) revoke(session string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.revoked[session] = true
}

func (d *ticketDesk) RedeemTicket(_ context.Context, scope, ticket string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.tickets[ticket]
	delete(d.tickets, ticket)
	if !ok || t.scope != scope || d.now.After(t.expires) {
		return "", false
	}
	return t.session, true
}

func (d *ticketDesk) SessionValid(_ context.Context, session string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.checks++
	return !d.revoked[session]
}

const testLoginURL = "http://hearth.local/auth/app"

// startProtected runs a proxy with one protected route, "vault".
func startProtected(t *testing.T, sessions Sessions) (*harness, *backend) {
	t.Helper()
	h := startProxy(t, func(c *Config) {
		if sessions != nil {
			c.Sessions = sessions
		}
		c.LoginURL = testLoginURL
		c.SessionCookie = "hearth_session"
	})
	if d, ok := sessions.(*ticketDesk); ok {
		h.p.appSessions.now = d.clock // before any request
	}
	b := newBackend(t, nil)
	r := route("vault", "vault.hearth.local", b.url())
	r.Protected = true
	h.apply(t, r)
	return h, b
}

func loginFor(next string) string {
	return testLoginURL + "?" + url.Values{"app": {"vault"}, "next": {next}}.Encode()
}

// handoff ends a handoff with ticket and returns the app cookie set.
func handoff(t *testing.T, c *http.Client, ticket, next string) (*http.Response, *http.Cookie) {
	t.Helper()
	resp, _ := get(t, c, "https://vault.hearth.local"+AuthPath+"?"+url.Values{"ticket": {ticket}, "next": {next}}.Encode(), nil)
	for _, ck := range resp.Cookies() {
		if ck.Name == AppCookiePrefix+"vault" {
			return resp, ck
		}
	}
	return resp, nil
}

func TestProtectedWithoutSession(t *testing.T) {
	tests := []struct {
		name         string
		sessions     Sessions
		header       http.Header
		wantStatus   int
		wantLocation string
	}{
		{"no Sessions fails closed", nil, http.Header{"Accept": {"text/html"}, "Cookie": {"hearth_session=valid"}}, http.StatusUnauthorized, ""},
		{"browser goes to the UI's handoff", newTicketDesk(), http.Header{"Accept": {"text/html,*/*"}}, http.StatusSeeOther,
			loginFor("https://vault.hearth.local/a?b=c")},
		{"API client gets 401", newTicketDesk(), http.Header{"Accept": {"application/json"}}, http.StatusUnauthorized, ""},
		{"forged app cookie gets 401", newTicketDesk(), http.Header{"Cookie": {AppCookiePrefix + "vault=forged"}}, http.StatusUnauthorized, ""},
		{"the UI's own cookie does not pass", newTicketDesk(), http.Header{"Cookie": {"hearth_session=valid"}}, http.StatusUnauthorized, ""},
		{"spoofed forwarding headers do not help", newTicketDesk(), http.Header{"X-Forwarded-For": {"127.0.0.1"}}, http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, b := startProtected(t, tt.sessions)
			resp, _ := get(t, h.client(t, true), "https://vault.hearth.local/a?b=c", tt.header)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Location"); got != tt.wantLocation {
				t.Errorf("Location: got %q, want %q", got, tt.wantLocation)
			}
			if n := b.hitCount(); n != 0 {
				t.Errorf("backend hits: got %d, want 0", n)
			}
		})
	}
}

func TestProtectedHandoff(t *testing.T) {
	d := newTicketDesk()
	h, b := startProtected(t, d)
	c := h.client(t, true)
	d.mint("good", "vault", "s1")
	resp, ck := handoff(t, c, "good", "/a?b=c")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/a?b=c" {
		t.Fatalf("handoff: got %d to %q, want 303 to %q", resp.StatusCode, resp.Header.Get("Location"), "/a?b=c")
	}
	if ck == nil {
		t.Fatalf("handoff: got cookies %v, want %s", resp.Cookies(), AppCookiePrefix+"vault")
	}
	if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
		t.Errorf("cookie: got %+v, want HttpOnly, Secure, SameSite=Lax, Path=/, host-only", ck)
	}
	cookie := http.Header{"Cookie": {ck.Name + "=" + ck.Value + "; hearth_session=x; app=1; " + AppCookiePrefix + "other=y"}}
	resp, body := get(t, c, "https://vault.hearth.local/a?b=c", cookie)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("with the app cookie: got %d, want 200", resp.StatusCode)
	}
	if got := decodeEcho(t, body).Header.Get("Cookie"); got != "app=1" {
		t.Errorf("Cookie at the backend: got %q, want %q", got, "app=1")
	}
	if n := b.hitCount(); n != 1 {
		t.Errorf("backend hits: got %d, want 1", n)
	}

	// Revoked: trusted for at most recheckAfter, then sent to the UI again.
	d.revoke("s1")
	if resp, _ := get(t, c, "https://vault.hearth.local/", cookie); resp.StatusCode != http.StatusOK {
		t.Errorf("revoked, within the recheck time: got %d, want 200", resp.StatusCode)
	}
	d.advance(recheckAfter + time.Second)
	cookie.Set("Accept", "text/html")
	resp, _ = get(t, c, "https://vault.hearth.local/x", cookie)
	if want := loginFor("https://vault.hearth.local/x"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
		t.Errorf("revoked session: got %d to %q, want 303 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	if n := b.hitCount(); n != 2 {
		t.Errorf("backend hits: got %d, want 2", n)
	}
}

func TestProtectedTicketsRefused(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, d *ticketDesk, c *http.Client)
		ticket string
	}{
		{"unknown", func(*testing.T, *ticketDesk, *http.Client) {}, "nope"},
		{"replayed", func(t *testing.T, d *ticketDesk, c *http.Client) {
			d.mint("once", "vault", "s1")
			if _, ck := handoff(t, c, "once", "/"); ck == nil {
				t.Fatal("first use: got no cookie, want one")
			}
		}, "once"},
		{"expired", func(_ *testing.T, d *ticketDesk, _ *http.Client) {
			d.mint("old", "vault", "s1")
			d.advance(61 * time.Second)
		}, "old"},
		{"another app's", func(_ *testing.T, d *ticketDesk, _ *http.Client) { d.mint("foreign", "other", "s1") }, "foreign"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTicketDesk()
			h, b := startProtected(t, d)
			c := h.client(t, true)
			tt.setup(t, d, c)
			resp, ck := handoff(t, c, tt.ticket, "/")
			if resp.StatusCode != http.StatusUnauthorized || ck != nil {
				t.Errorf("got %d with cookie %v, want 401 without cookie", resp.StatusCode, ck)
			}
			if n := b.hitCount(); n != 0 {
				t.Errorf("backend hits: got %d, want 0", n)
			}
		})
	}
}

func TestProtectedNoOpenRedirect(t *testing.T) {
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "evil", "/a\r\nSet-Cookie: x=1", AuthPath + "?ticket=x"} {
		t.Run(next, func(t *testing.T) {
			d := newTicketDesk()
			h, _ := startProtected(t, d)
			d.mint("t", "vault", "s1")
			resp, ck := handoff(t, h.client(t, false), "t", next)
			if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != "/" {
				t.Errorf("got %d to %q, want 303 to %q", resp.StatusCode, got, "/")
			}
			if ck == nil {
				t.Errorf("got no cookie, want one")
			}
		})
	}
}

func TestProtectedPortSharesScope(t *testing.T) {
	d := newTicketDesk()
	h := startProxy(t, func(c *Config) { c.Sessions, c.LoginURL = d, testLoginURL })
	h.p.appSessions.now = d.clock
	b := newBackend(t, nil)
	r := route("vault-public", "vault.example.org", b.url())
	r.Protected, r.AuthScope = true, "vault"
	h.apply(t, r)
	c := h.client(t, true)
	resp, _ := get(t, c, "https://vault.example.org/", http.Header{"Accept": {"text/html"}})
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "app=vault&") {
		t.Errorf("Location: got %q, want app=vault", loc)
	}
	d.mint("t", "vault", "s1")
	resp, _ = get(t, c, "https://vault.example.org"+AuthPath+"?ticket=t&next=/", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("handoff: got %d, want 303", resp.StatusCode)
	}
	var cookie string
	for _, ck := range resp.Cookies() {
		cookie = ck.Name + "=" + ck.Value
	}
	if resp, _ := get(t, c, "https://vault.example.org/", http.Header{"Cookie": {cookie}}); resp.StatusCode != http.StatusOK {
		t.Errorf("with the cookie: got %d, want 200", resp.StatusCode)
	}
}
