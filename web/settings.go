package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/hearthbox/hearth/agent/api"
)

// activityShown is how many activity entries the settings page shows.
const activityShown = 50

// settingsView is the settings page.
type settingsView struct {
	Notice, Error string
	BoxName       string
	Status        api.Status
	RootCA        bool
	Fingerprint   string
	Users         []api.User
	Sessions      []api.Session
	Current       string // this browser's session id
	TOTP          bool   // the viewer has two-factor sign-in on
	Enrollment    *api.TOTPEnrollment
	QR            string // SVG of Enrollment.URI
	Activity      []api.Activity
}

// notices are the messages a settings form may come back with.
func notice(key string) string {
	return map[string]string{
		"password":    "Your password is changed. Your other sessions are signed out.",
		"revoked":     "That session is signed out.",
		"totp-on":     "Two-factor sign-in is on.",
		"totp-off":    "Two-factor sign-in is off.",
		"user-added":  "The person is added. Tell them their name and first password.",
		"user-remove": "The person is removed.",
	}[key]
}

func roleText(role string) string {
	if role == api.RoleOwner {
		return "owner"
	}
	return "member"
}

// agentText is a browser's user agent, shortened.
func agentText(ua string) string {
	switch {
	case ua == "":
		return "A browser"
	case strings.Contains(ua, "Firefox/"):
		return "Firefox" + onOS(ua)
	case strings.Contains(ua, "Edg/"):
		return "Edge" + onOS(ua)
	case strings.Contains(ua, "Chrome/"):
		return "Chrome" + onOS(ua)
	case strings.Contains(ua, "Safari/"):
		return "Safari" + onOS(ua)
	}
	if len(ua) > 40 {
		return ua[:40] + "…"
	}
	return ua
}

func onOS(ua string) string {
	for _, os := range []struct{ key, name string }{{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"},
		{"Windows", "Windows"}, {"Mac OS", "a Mac"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"}} {
		if strings.Contains(ua, os.key) {
			return " on " + os.name
		}
	}
	return ""
}

// settings shows the settings page.
func (u *UI) settings(w http.ResponseWriter, r *http.Request, v *viewer) {
	u.renderSettings(w, r, v, http.StatusOK, settingsView{Notice: notice(r.URL.Query().Get("done"))})
}

// renderSettings fills view with the box's facts and renders it.
func (u *UI) renderSettings(w http.ResponseWriter, r *http.Request, v *viewer, status int, view settingsView) {
	ctx := r.Context()
	st, err := u.backend.Status(ctx)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	view.Status, view.RootCA, view.Fingerprint, view.Current = st, len(u.cfg.RootCA) > 0, u.cfg.RootCAFingerprint, v.ID
	if u.cfg.BoxName != nil {
		view.BoxName = u.cfg.BoxName()
	}
	users, err := u.backend.Users(ctx)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	for _, us := range users {
		if us.Name == v.User {
			view.TOTP = us.TOTP
		}
	}
	if v.owner() {
		view.Users = users
		acts, err := u.backend.Activity(ctx, 0, 1000)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		if len(acts) > activityShown {
			acts = acts[len(acts)-activityShown:]
		}
		slices.Reverse(acts)
		view.Activity = acts
	}
	if view.Sessions, err = u.backend.Sessions(ctx, v.User); err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, status, settingsPage(u.basePage(w, r, v, "Settings", "settings"), view))
}

// settingsDone goes back to the settings page with a notice, or shows it
// again with the error.
func (u *UI) settingsDone(w http.ResponseWriter, r *http.Request, v *viewer, err error, done string) {
	if err != nil {
		status := statusOf(err)
		if fe, ok := err.(formError); ok {
			u.renderSettings(w, r, v, http.StatusBadRequest, settingsView{Error: sentence(fe.Error())})
			return
		}
		if status >= 500 {
			u.log.Error("settings", "path", r.URL.Path, "err", err)
		}
		setRetryAfter(w, err)
		u.renderSettings(w, r, v, status, settingsView{Error: messageOf(err)})
		return
	}
	http.Redirect(w, r, "/settings?done="+done, http.StatusSeeOther)
}

func (u *UI) changePassword(w http.ResponseWriter, r *http.Request, v *viewer) {
	err := u.backend.ChangePassword(r.Context(), v.User, r.PostForm.Get("old"), r.PostForm.Get("new"))
	if err == nil {
		// The backend ended the other sessions; this one goes on.
		u.settingsDone(w, r, v, nil, "password")
		return
	}
	u.settingsDone(w, r, v, err, "")
}

func (u *UI) revokeSession(w http.ResponseWriter, r *http.Request, v *viewer) {
	id := r.PathValue("id")
	err := u.backend.RevokeSession(r.Context(), v.User, id)
	if err == nil && id == v.ID {
		u.setCookie(w, r, cookieSession, "", -1)
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	u.settingsDone(w, r, v, err, "revoked")
}

func (u *UI) enrolTOTP(w http.ResponseWriter, r *http.Request, v *viewer) {
	e, err := u.backend.EnrollTOTP(r.Context(), v.User)
	if err != nil {
		u.settingsDone(w, r, v, err, "")
		return
	}
	view := settingsView{Enrollment: &e}
	if view.QR, err = qrSVG(e.URI); err != nil {
		u.log.Warn("totp qr code", "err", err) // the key and link are still shown
	}
	u.renderSettings(w, r, v, http.StatusOK, view)
}

func (u *UI) confirmTOTP(w http.ResponseWriter, r *http.Request, v *viewer) {
	u.settingsDone(w, r, v, u.backend.ConfirmTOTP(r.Context(), v.User, strings.TrimSpace(r.PostForm.Get("code"))), "totp-on")
}

func (u *UI) disableTOTP(w http.ResponseWriter, r *http.Request, v *viewer) {
	u.settingsDone(w, r, v, u.backend.DisableTOTP(r.Context(), v.User, r.PostForm.Get("password")), "totp-off")
}

func (u *UI) addUser(w http.ResponseWriter, r *http.Request, v *viewer) {
	f := r.PostForm
	role := f.Get("role")
	if role != api.RoleMember && role != api.RoleOwner {
		u.settingsDone(w, r, v, formError("role: choose member or owner"), "")
		return
	}
	_, err := u.backend.AddUser(r.Context(), api.AddUserRequest{Name: strings.TrimSpace(f.Get("name")), Password: f.Get("password"), Role: role})
	u.settingsDone(w, r, v, err, "user-added")
}

func (u *UI) removeUser(w http.ResponseWriter, r *http.Request, v *viewer) {
	name := r.PathValue("name")
	if name == v.User {
		u.settingsDone(w, r, v, formError("person: you cannot remove yourself"), "")
		return
	}
	u.settingsDone(w, r, v, u.backend.RemoveUser(r.Context(), name), "user-remove")
}

// rootCA serves the box's LAN root certificate: public by nature, so to
// anyone who may reach the UI, signed in or not.
func (u *UI) rootCA(w http.ResponseWriter, r *http.Request) {
	if len(u.cfg.RootCA) == 0 {
		u.notFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/x-x509-ca-cert")
	w.Header().Set("Content-Disposition", `attachment; filename="hearth-root.crt"`)
	_, _ = w.Write(u.cfg.RootCA)
}
