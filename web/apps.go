package web

import (
	"context"
	"net/http"
	"time"

	"github.com/hearthbox/hearth/agent/api"
)

// logTail is how many log lines the app page shows.
const logTail = 100

// appView is an installed app's page.
type appView struct {
	App  api.App
	Logs []api.LogLine
}

// logLine is one line of the logs box.
func logLine(l api.LogLine) string {
	return l.Time.UTC().Format("15:04:05") + " " + l.Service + " " + l.Line + "\n"
}

// appPage shows an installed app; owners also get its controls and logs.
func (u *UI) appPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	a, err := u.backend.App(r.Context(), r.PathValue("id"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	view := appView{App: a}
	if v.owner() {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		err := u.backend.Logs(ctx, a.ID, api.LogOptions{Tail: logTail}, func(l api.LogLine) error {
			view.Logs = append(view.Logs, l)
			return nil
		})
		cancel()
		if err != nil && ctx.Err() == nil {
			u.log.Debug("app logs", "app", a.ID, "err", err)
		}
		if len(view.Logs) > logTail {
			view.Logs = view.Logs[len(view.Logs)-logTail:]
		}
	}
	u.render(w, r, http.StatusOK, appPage(u.basePage(w, r, v, a.Title, "home"), view))
}

// appAction starts an operation on an app and shows its progress.
func (u *UI) appAction(w http.ResponseWriter, r *http.Request, v *viewer) {
	id := r.PathValue("id")
	ctx := r.Context()
	var (
		op  api.Operation
		err error
	)
	switch r.PathValue("action") {
	case "start":
		op, err = u.backend.Start(ctx, id)
	case "stop":
		op, err = u.backend.Stop(ctx, id)
	case "restart":
		op, err = u.backend.Restart(ctx, id)
	case "update":
		op, err = u.backend.Update(ctx, id, "")
	case "rollback":
		op, err = u.backend.Rollback(ctx, id)
	case "uninstall":
		switch r.PostForm.Get("data") {
		case "keep":
			op, err = u.backend.Uninstall(ctx, id, true)
		case "delete":
			op, err = u.backend.Uninstall(ctx, id, false)
		default:
			err = formError("data: choose whether to keep the app's data")
		}
	default:
		u.notFound(w, r)
		return
	}
	if fe, ok := err.(formError); ok {
		u.renderError(w, r, http.StatusBadRequest, "Please check what you chose", sentence(fe.Error()))
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/ops/"+op.ID, http.StatusSeeOther)
}
