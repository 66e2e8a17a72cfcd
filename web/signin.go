package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/hearthbox/hearth/agent/api"
)

// pendingTTL is how long a sign-in waits for its TOTP code.
const pendingTTL = 5 * time.Minute

// maxPending bounds the sign-ins waiting for a TOTP code.
const maxPending = 1000

// signinView is the sign-in page, or its TOTP step when Pending is set.
type signinView struct {
	User, Next, Error string
	Pending           string
}

// pendingLogin is a sign-in whose password was right and that waits for
// its TOTP code. It is held in memory only, for pendingTTL, and bound to
// the browser's CSRF binding so that another browser cannot finish it.
type pendingLogin struct {
	user, password string
	binding        string
	expires        time.Time
}

// home is the launcher for a signed-in user, else the wizard or sign-in.
func (u *UI) home(w http.ResponseWriter, r *http.Request) {
	v := u.viewerOf(r)
	if v == nil {
		st, err := u.backend.SetupState(r.Context(), "")
		if err == nil && !st.Claimed {
			http.Redirect(w, r, "/setup", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	u.launcher(w, r.WithContext(actorContext(r.Context(), v)), v)
}

func (u *UI) signinPage(w http.ResponseWriter, r *http.Request) {
	if v := u.viewerOf(r); v != nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	u.render(w, r, http.StatusOK, signinPage(u.basePage(w, r, nil, "Sign in", ""), signinView{Next: localPath(r.URL.Query().Get("next"))}))
}

// signin checks the name and password; with two-factor sign-in on, it
// asks for the code next.
func (u *UI) signin(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	view := signinView{User: f.Get("user"), Next: localPath(f.Get("next"))}
	u.login(w, r, view, api.LoginRequest{User: f.Get("user"), Password: f.Get("password"), UserAgent: r.UserAgent()})
}

// signinTOTP finishes a sign-in with its TOTP code.
func (u *UI) signinTOTP(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	view := signinView{Next: localPath(f.Get("next"))}
	p, ok := u.takePending(f.Get("pending"), u.binding(r))
	if !ok {
		view.Error = "That took too long. Sign in again."
		u.render(w, r, http.StatusUnauthorized, signinPage(u.basePage(w, r, nil, "Sign in", ""), view))
		return
	}
	view.User = p.user
	u.login(w, r, view, api.LoginRequest{User: p.user, Password: p.password, TOTP: f.Get("totp"), UserAgent: r.UserAgent()})
}

func (u *UI) login(w http.ResponseWriter, r *http.Request, view signinView, req api.LoginRequest) {
	res, err := u.backend.Login(api.WithActor(r.Context(), "user "+req.User+" (web)"), req)
	if err != nil {
		status := statusOf(err)
		view.Error = messageOf(err)
		if errors.Is(err, api.ErrUnauthorized) {
			view.Error = "Wrong name, password or code. Try again."
		} else if status >= 500 {
			u.log.Error("sign in", "err", err)
		}
		setRetryAfter(w, err)
		u.render(w, r, status, signinPage(u.basePage(w, r, nil, "Sign in", ""), view))
		return
	}
	if res.NeedTOTP {
		if req.TOTP != "" {
			view.Error = "Type the six-digit code."
		}
		view.Pending = u.addPending(pendingLogin{user: req.User, password: req.Password, binding: u.binding(r)})
		u.render(w, r, http.StatusOK, signinPage(u.basePage(w, r, nil, "Sign in", ""), view))
		return
	}
	// A new session: the old one (if any) ends, and its token is replaced.
	if old := u.cookie(r, cookieSession); old != "" {
		_ = u.backend.Logout(r.Context(), old)
	}
	u.setCookie(w, r, cookieCSRF, "", -1)
	u.setCookie(w, r, cookieSession, res.Token, sessionMaxAge)
	http.Redirect(w, r, view.Next, http.StatusSeeOther)
}

func (u *UI) signout(w http.ResponseWriter, r *http.Request) {
	if token := u.cookie(r, cookieSession); token != "" {
		if err := u.backend.Logout(r.Context(), token); err != nil && !errors.Is(err, api.ErrUnauthorized) {
			u.log.Warn("sign out", "err", err)
		}
	}
	u.setCookie(w, r, cookieSession, "", -1)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// addPending keeps a sign-in for its TOTP step and returns its id.
func (u *UI) addPending(p pendingLogin) string {
	now := time.Now()
	p.expires = now.Add(pendingTTL)
	id := randomToken()
	u.pendingMu.Lock()
	defer u.pendingMu.Unlock()
	for k, v := range u.pending {
		if now.After(v.expires) {
			delete(u.pending, k)
		}
	}
	if len(u.pending) >= maxPending {
		for k := range u.pending { // full of live ones: drop any
			delete(u.pending, k)
			break
		}
	}
	u.pending[id] = p
	return id
}

// takePending returns and forgets a waiting sign-in of this browser.
func (u *UI) takePending(id, binding string) (pendingLogin, bool) {
	u.pendingMu.Lock()
	defer u.pendingMu.Unlock()
	p, ok := u.pending[id]
	if !ok || p.binding != binding {
		return pendingLogin{}, false // another browser's: left alone
	}
	delete(u.pending, id)
	if time.Now().After(p.expires) {
		return pendingLogin{}, false
	}
	return p, true
}
