package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hearthbox/hearth/agent/api"
)

// Cookie bases; the names are "__Host-hearth_<base>" over HTTPS and
// "hearth_<base>" over plain HTTP (docs/web.md says why).
const (
	cookieSession = "session"
	cookieSetup   = "setup"
	cookieCSRF    = "csrf"
)

// sessionMaxAge is how long the browser keeps the session cookie; the
// backend decides how long the session itself lives.
const sessionMaxAge = 30 * 24 * time.Hour

func (u *UI) cookieName(r *http.Request, base string) string {
	if u.secure(r) {
		return "__Host-hearth_" + base
	}
	return "hearth_" + base
}

// cookie returns the value of one of the UI's cookies, or "".
func (u *UI) cookie(r *http.Request, base string) string {
	c, err := r.Cookie(u.cookieName(r, base))
	if err != nil {
		return ""
	}
	return c.Value
}

// setCookie sets one of the UI's cookies: HttpOnly, SameSite=Strict, for
// the whole site, Secure over HTTPS. maxAge 0 makes a session cookie, a
// negative one deletes it.
func (u *UI) setCookie(w http.ResponseWriter, r *http.Request, base, value string, maxAge time.Duration) {
	c := &http.Cookie{
		Name: u.cookieName(r, base), Value: value, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: u.secure(r),
	}
	switch {
	case maxAge < 0:
		c.Value, c.MaxAge = "", -1
	case maxAge > 0:
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

// viewer is the signed-in user of a request.
type viewer struct {
	api.Session
	token string
}

func (v *viewer) owner() bool { return v != nil && v.Role == api.RoleOwner }

// viewerOf returns the request's signed-in user, or nil. Only the session
// cookie counts: never the client's address or forwarded headers.
func (u *UI) viewerOf(r *http.Request) *viewer {
	token := u.cookie(r, cookieSession)
	if token == "" {
		return nil
	}
	s, err := u.backend.Authenticate(r.Context(), token)
	if err != nil {
		if !errors.Is(err, api.ErrUnauthorized) {
			u.log.Warn("authenticate", "err", err)
		}
		return nil
	}
	return &viewer{Session: s, token: token}
}

// actorContext records the viewer as the actor of what the backend does,
// and its session (which ChangePassword keeps while ending the others).
func actorContext(ctx context.Context, v *viewer) context.Context {
	return api.WithSession(api.WithActor(ctx, "user "+v.User+" (web)"), v.ID)
}

// userHandler is a handler for signed-in users.
type userHandler func(w http.ResponseWriter, r *http.Request, v *viewer)

// user lets signed-in users through; others are sent to sign in.
func (u *UI) user(h userHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := u.viewerOf(r)
		if v == nil {
			u.needSignIn(w, r)
			return
		}
		h(w, r.WithContext(actorContext(r.Context(), v)), v)
	}
}

// owner lets owners through; members get 403.
func (u *UI) owner(h userHandler) http.HandlerFunc {
	return u.user(func(w http.ResponseWriter, r *http.Request, v *viewer) {
		if !v.owner() {
			u.renderError(w, r, http.StatusForbidden, "Only the owner can do this",
				"Your account is a member account: you can open apps, but not install them or change the box. Ask the box's owner.")
			return
		}
		h(w, r, v)
	})
}

// needSignIn sends a browser to the sign-in page, or answers 401.
func (u *UI) needSignIn(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	u.renderError(w, r, http.StatusUnauthorized, "Please sign in", "Your session has ended. Sign in again and repeat what you did.")
}

// localPath returns next if it is a path on this site, else "/".
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\\") {
		return "/"
	}
	return next
}
