package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"time"

	"github.com/hearthbox/hearth/agent/api"
)

// The UI's half of the handoff that lets signed-in people open protected
// apps (docs/proxy.md, "Apps behind Hearth's login"): GET /auth/app mints a
// one-time ticket and sends the browser to the app's origin, where the
// proxy redeems it through RedeemTicket.

// appAuthPath is the path on an app's origin that the proxy answers itself
// (proxy.AuthPath; web does not import the proxy).
const appAuthPath = "/.hearth/auth"

const (
	// ticketTTL is how long a ticket may wait to be redeemed.
	ticketTTL = 60 * time.Second
	// maxTickets bounds the tickets waiting in memory.
	maxTickets = 1000
)

// appTicket is a one-time ticket: bound to the session that asked for it
// and to one app (a proxy route's auth scope, the app id).
type appTicket struct {
	app, session string
	expires      time.Time
}

// appAuth is GET /auth/app?app=<id>&next=<URL on the app>: for a signed-in
// member or owner, a redirect to next's origin with a fresh ticket.
func (u *UI) appAuth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	v := u.viewerOf(r)
	if v == nil {
		// The session cookie is SameSite=Strict, so a browser coming from
		// the app's origin (another site when the schemes differ) may not
		// have sent it: one navigation started by this site brings it.
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" && q.Get("bounce") == "" {
			q.Set("bounce", "1")
			self := html.EscapeString("/auth/app?" + q.Encode())
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(`<!doctype html><meta http-equiv="refresh" content="0;url=` + self + `"><a href="` + self + `">Continue</a>`))
			return
		}
		u.needSignIn(w, r)
		return
	}
	if v.Role != api.RoleOwner && v.Role != api.RoleMember {
		u.renderError(w, r, http.StatusForbidden, "Not for this account", "Only the box's members and owners may open its apps.")
		return
	}
	id := q.Get("app")
	app, err := u.backend.App(r.Context(), id)
	if err != nil {
		u.renderError(w, r, http.StatusNotFound, "No such app", "This link names an app that is not on this box. Open the app from Hearth's home page.")
		return
	}
	origin, path, ok := appDestination(app, q.Get("next"))
	if !ok {
		u.log.Info("app sign-in for a foreign address refused", "app", id)
		u.renderError(w, r, http.StatusBadRequest, "Wrong address", "This link does not lead to "+app.Title+". Open the app from Hearth's home page.")
		return
	}
	ticket := u.mintTicket(app.ID, v.token)
	http.Redirect(w, r, origin+appAuthPath+"?"+url.Values{"ticket": {ticket}, "next": {path}}.Encode(), http.StatusSeeOther)
}

// appDestination splits next into its origin and path, when the origin is
// one of the app's own addresses.
func appDestination(app api.App, next string) (origin, path string, ok bool) {
	n, err := url.Parse(next)
	if err != nil || n.Scheme != "https" || n.Host == "" || n.User != nil || n.Opaque != "" {
		return "", "", false
	}
	for _, s := range app.URLs {
		a, err := url.Parse(s)
		if err == nil && a.Scheme == n.Scheme && a.Host == n.Host {
			return n.Scheme + "://" + n.Host, n.RequestURI(), true
		}
	}
	return "", "", false
}

// mintTicket keeps a new ticket for app and the session token, and returns
// it.
func (u *UI) mintTicket(app, session string) string {
	now := time.Now()
	ticket := randomToken()
	u.ticketsMu.Lock()
	defer u.ticketsMu.Unlock()
	for k, t := range u.tickets {
		if now.After(t.expires) {
			delete(u.tickets, k)
		}
	}
	if len(u.tickets) >= maxTickets {
		for k := range u.tickets { // full of live ones: drop any
			delete(u.tickets, k)
			break
		}
	}
	u.tickets[ticket] = appTicket{app: app, session: session, expires: now.Add(ticketTTL)}
	return ticket
}

// RedeemTicket spends a ticket minted for app and returns the session token
// it is bound to, if the ticket is live and that session still may open
// apps. A ticket is gone after its first use, whatever the outcome. It
// makes the UI a proxy.Sessions.
func (u *UI) RedeemTicket(ctx context.Context, app, ticket string) (string, bool) {
	u.ticketsMu.Lock()
	t, ok := u.tickets[ticket]
	delete(u.tickets, ticket)
	u.ticketsMu.Unlock()
	if !ok || t.app != app || time.Now().After(t.expires) || !u.SessionValid(ctx, t.session) {
		return "", false
	}
	return t.session, true
}

// SessionValid reports whether the session token is live and its user a
// member or owner.
func (u *UI) SessionValid(ctx context.Context, session string) bool {
	s, err := u.backend.Authenticate(ctx, session)
	return err == nil && (s.Role == api.RoleOwner || s.Role == api.RoleMember)
}
