package proxy

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Sessions connects protected routes to Hearth's sign-in (the web UI). The
// proxy never sees the UI's session cookie: the UI hands a browser over with
// a one-time ticket (docs/proxy.md, "Apps behind Hearth's login").
type Sessions interface {
	// RedeemTicket spends a one-time ticket that the UI minted for scope (a
	// route's AuthScope) and returns the session it was minted for, which
	// the proxy keeps in memory and gives back to SessionValid. ok is false
	// for an unknown, spent, expired or other scope's ticket.
	RedeemTicket(ctx context.Context, scope, ticket string) (session string, ok bool)
	// SessionValid reports whether session may still open protected apps:
	// it is live, and its user is a member or an owner.
	SessionValid(ctx context.Context, session string) bool
}

// AuthPath is the path that protected routes answer themselves: the end of
// the UI's handoff, /.hearth/auth?ticket=...&next=/path.
const AuthPath = "/.hearth/auth"

// AppCookiePrefix starts the name of the proxy's per-route cookie,
// "__Host-hearth_app_<scope>". Cookies so named are never forwarded.
const AppCookiePrefix = "__Host-hearth_app_"

const (
	// recheckAfter is how long a checked session is trusted before
	// SessionValid is asked again: a revoked session locks its apps within
	// this time.
	recheckAfter = 30 * time.Second
	// appSessionIdle forgets an app session unused this long; the browser
	// then goes through the handoff again.
	appSessionIdle = 24 * time.Hour
	// maxAppSessions bounds the app sessions kept in memory.
	maxAppSessions = 10000
)

// appSession is what one per-route cookie stands for.
type appSession struct {
	scope, session string
	checked, used  time.Time
}

// appSessions maps per-route cookie values to Hearth sessions. The map
// lives in memory only: after a restart, browsers go through the handoff
// again (a redirect while their Hearth session lives).
type appSessions struct {
	sessions Sessions
	now      func() time.Time

	// mu guards byToken; it is never held while asking sessions.
	mu      sync.Mutex
	byToken map[string]*appSession
}

func newAppSessions(s Sessions, now func() time.Time) *appSessions {
	return &appSessions{sessions: s, now: now, byToken: map[string]*appSession{}}
}

// add records a new app session and returns its cookie value.
func (a *appSessions) add(scope, session string) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	token := base64.RawURLEncoding.EncodeToString(b[:])
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.byToken) >= maxAppSessions {
		var oldest string
		for k, s := range a.byToken {
			if now.Sub(s.used) > appSessionIdle {
				delete(a.byToken, k)
			} else if oldest == "" || s.used.Before(a.byToken[oldest].used) {
				oldest = k
			}
		}
		if len(a.byToken) >= maxAppSessions {
			delete(a.byToken, oldest)
		}
	}
	a.byToken[token] = &appSession{scope: scope, session: session, checked: now, used: now}
	return token
}

// valid reports whether token is an app session of scope whose Hearth
// session still lives (asked at most every recheckAfter).
func (a *appSessions) valid(ctx context.Context, token, scope string) bool {
	now := a.now()
	a.mu.Lock()
	s := a.byToken[token]
	if s == nil || s.scope != scope {
		a.mu.Unlock()
		return false
	}
	if now.Sub(s.used) > appSessionIdle {
		delete(a.byToken, token)
		a.mu.Unlock()
		return false
	}
	s.used = now
	fresh, session := now.Sub(s.checked) < recheckAfter, s.session
	a.mu.Unlock()
	if fresh {
		return true
	}
	ok := a.sessions.SessionValid(ctx, session)
	a.mu.Lock()
	defer a.mu.Unlock()
	if !ok {
		delete(a.byToken, token)
	} else if s := a.byToken[token]; s != nil {
		s.checked = now
	}
	return ok
}

// authScope is the scope a route's tickets and cookies are bound to.
func authScope(r Route) string {
	if r.AuthScope != "" {
		return r.AuthScope
	}
	return r.ID
}

// authorized reports whether r carries a live app session for e's scope.
func (p *Proxy) authorized(r *http.Request, e *entry) bool {
	if p.appSessions == nil {
		return false
	}
	scope := authScope(e.route)
	c, err := r.Cookie(AppCookiePrefix + scope)
	if err != nil || c.Value == "" {
		return false
	}
	return p.appSessions.valid(r.Context(), c.Value, scope)
}

// serveAuth ends the UI's handoff on a protected route: it redeems the
// ticket, sets the route's cookie and sends the browser on to next, a path
// on this origin.
func (p *Proxy) serveAuth(w *recorder, r *http.Request, e *entry, onPort bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		p.renderPage(w, page{Status: http.StatusMethodNotAllowed, Heading: "Not allowed", Text: "This address only takes GET."})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	q := r.URL.Query()
	next := localPath(q.Get("next"))
	scope := authScope(e.route)
	session, ok := "", false
	if p.appSessions != nil {
		session, ok = p.cfg.Sessions.RedeemTicket(r.Context(), scope, q.Get("ticket"))
	}
	if !ok {
		p.log.Info("app sign-in refused", "route", e.route.ID)
		pg := unauthorizedPage(e.route, p.loginLink(r, e, onPort, next))
		pg.Text = "This sign-in link has expired or was used already. Open the app again."
		p.renderPage(w, pg)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: AppCookiePrefix + scope, Value: p.appSessions.add(scope, session), Path: "/",
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	})
	redirect(w, next, http.StatusSeeOther)
}

// localPath returns next if it is a path on this origin, else "/": never
// another origin ("//evil", "/\evil", "https://evil") and never a header
// break.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t\\") || strings.HasPrefix(next, AuthPath) {
		return "/"
	}
	return next
}
