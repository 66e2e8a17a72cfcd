package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// appAuthURL is the handoff's address for nextcloud, back to next.
func appAuthURL(next string) string {
	return "/auth/app?" + url.Values{"app": {"nextcloud"}, "next": {next}}.Encode()
}

// TestAppAuth checks GET /auth/app: a signed-in member gets a ticket on the
// app's own origin, which the proxy can redeem once, for that app only.
func TestAppAuth(t *testing.T) {
	be := newTestBackend()
	u := newUI(t, be)
	b := newBrowser(t, u, false)
	b.signIn("bob", "battery staple")

	resp := b.get(appAuthURL("https://nextcloud.hearth.local/apps/files?dir=%2F"))
	wantStatus(t, resp, http.StatusSeeOther, b.last)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := loc.Scheme+"://"+loc.Host+loc.Path, "https://nextcloud.hearth.local/.hearth/auth"; got != want {
		t.Fatalf("Location: got %q, want %q", got, want)
	}
	if got, want := loc.Query().Get("next"), "/apps/files?dir=%2F"; got != want {
		t.Errorf("next: got %q, want %q", got, want)
	}
	ticket := loc.Query().Get("ticket")
	if len(ticket) < 43 {
		t.Fatalf("ticket: got %q, want 32 random bytes", ticket)
	}
	ctx := context.Background()
	if _, ok := u.RedeemTicket(ctx, "vaultwarden", ticket); ok {
		t.Errorf("redeemed for another app: got ok, want refused")
	}
	b.get(appAuthURL("https://nextcloud.hearth.local/"))
	ticket = mustTicket(t, b)
	session, ok := u.RedeemTicket(ctx, "nextcloud", ticket)
	if !ok || !u.SessionValid(ctx, session) {
		t.Fatalf("redeem: got %q %v, want a valid session", session, ok)
	}
	if _, ok := u.RedeemTicket(ctx, "nextcloud", ticket); ok {
		t.Errorf("replayed ticket: got ok, want refused")
	}
	if err := be.Logout(ctx, session); err != nil {
		t.Fatal(err)
	}
	if u.SessionValid(ctx, session) {
		t.Errorf("SessionValid after sign-out: got true, want false")
	}
}

func mustTicket(t *testing.T, b *browser) string {
	t.Helper()
	loc, err := url.Parse(b.lastLocation)
	if err != nil || loc.Query().Get("ticket") == "" {
		t.Fatalf("Location: got %q, want one with a ticket", b.lastLocation)
	}
	return loc.Query().Get("ticket")
}

// TestAppAuthRefused checks who and what gets no ticket.
func TestAppAuthRefused(t *testing.T) {
	tests := []struct {
		name       string
		signIn     bool
		path       string
		headers    []string
		wantStatus int
		wantIn     string // in Location, or the body
	}{
		{"not signed in: sign in first", false, appAuthURL("https://nextcloud.hearth.local/"), nil, http.StatusSeeOther,
			"/signin?next=" + url.QueryEscape(appAuthURL("https://nextcloud.hearth.local/"))},
		{"cross-site without cookie: one bounce", false, appAuthURL("https://nextcloud.hearth.local/"), []string{"Sec-Fetch-Site", "cross-site"},
			http.StatusOK, `http-equiv="refresh"`},
		{"foreign origin", true, appAuthURL("https://evil.example/"), nil, http.StatusBadRequest, "does not lead to Nextcloud"},
		{"another app's origin", true, appAuthURL("https://vaultwarden.hearth.local/"), nil, http.StatusBadRequest, "does not lead to"},
		{"plain http", true, appAuthURL("http://nextcloud.hearth.local/"), nil, http.StatusBadRequest, "does not lead to"},
		{"relative next", true, appAuthURL("/settings"), nil, http.StatusBadRequest, "does not lead to"},
		{"unknown app", true, "/auth/app?app=nope&next=https%3A%2F%2Fnope.hearth.local%2F", nil, http.StatusNotFound, "No such app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t, newUI(t, newTestBackend()), false)
			if tt.signIn {
				b.signIn("bob", "battery staple")
			}
			resp := b.get(tt.path, tt.headers...)
			wantStatus(t, resp, tt.wantStatus, b.last)
			if got := resp.Header.Get("Location") + b.last; !strings.Contains(got, tt.wantIn) {
				t.Errorf("got %q, want it to contain %q", got, tt.wantIn)
			}
			if strings.Contains(resp.Header.Get("Location"), "ticket=") {
				t.Errorf("Location: got %q, want no ticket", resp.Header.Get("Location"))
			}
		})
	}
}
