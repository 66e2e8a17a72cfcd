package web

import (
	"net/http"

	"github.com/hearthbox/hearth/agent/api"
)

// homeView is the launcher.
type homeView struct {
	Apps  []api.App
	Error string
}

// launcher shows the installed apps as icons with their state.
func (u *UI) launcher(w http.ResponseWriter, r *http.Request, v *viewer) {
	apps, err := u.backend.Apps(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, homePage(u.basePage(w, r, v, "Home", "home"), homeView{Apps: apps}))
}
