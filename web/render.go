package web

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/a-h/templ"

	"github.com/hearthbox/hearth/agent/api"
)

// render writes a page in one piece: a template that fails leaves no half
// page behind.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		u.log.Error("render page", "path", r.URL.Path, "err", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// basePage is the layout data of a page for the viewer (nil before sign-in).
func (u *UI) basePage(w http.ResponseWriter, r *http.Request, v *viewer, title, nav string) page {
	p := page{Title: title, Nav: nav, CSRF: u.formToken(w, r)}
	if v != nil {
		p.User, p.Owner = v.User, v.owner()
	}
	return p
}

// renderError writes an error page.
func (u *UI) renderError(w http.ResponseWriter, r *http.Request, status int, heading, text string) {
	v := u.viewerOf(r)
	u.render(w, r, status, errorPage(u.basePage(w, r, v, heading, ""), errorView{Status: status, Heading: heading, Text: text}))
}

// fail answers a backend error with its status and a sentence that says
// what to do next.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status >= 500 {
		u.log.Error("backend", "path", r.URL.Path, "err", err)
	}
	setRetryAfter(w, err)
	u.renderError(w, r, status, headingOf(status), messageOf(err))
}

// statusOf maps the backend's sentinel errors to HTTP statuses.
func statusOf(err error) int {
	for _, e := range []struct {
		err    error
		status int
	}{
		{api.ErrNotFound, http.StatusNotFound},
		{api.ErrInvalid, http.StatusBadRequest},
		{api.ErrBusy, http.StatusConflict},
		{api.ErrRefused, http.StatusUnprocessableEntity},
		{api.ErrUnavailable, http.StatusServiceUnavailable},
		{api.ErrForbidden, http.StatusForbidden},
		{api.ErrUnauthorized, http.StatusUnauthorized},
		{api.ErrGone, http.StatusGone},
		{api.ErrTooMany, http.StatusTooManyRequests},
	} {
		if errors.Is(err, e.err) {
			return e.status
		}
	}
	return http.StatusInternalServerError
}

func headingOf(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Not found"
	case http.StatusBadRequest:
		return "Please check what you entered"
	case http.StatusConflict:
		return "The box is busy"
	case http.StatusUnprocessableEntity:
		return "The box refused"
	case http.StatusServiceUnavailable:
		return "The box is starting"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusUnauthorized:
		return "Please sign in"
	case http.StatusGone:
		return "Already done"
	case http.StatusTooManyRequests:
		return "Too many attempts"
	}
	return "Something went wrong"
}

// messageOf is an error as a sentence for the person at the browser.
func messageOf(err error) string {
	var retry *api.RetryError
	switch {
	case errors.As(err, &retry):
		return "Too many attempts. Wait " + retry.After.Round(time.Second).String() + " and try again."
	case errors.Is(err, api.ErrTooMany):
		return "Too many attempts. Wait a minute and try again."
	case errors.Is(err, api.ErrInvalid):
		return sentence(strings.TrimSuffix(err.Error(), ": "+api.ErrInvalid.Error()))
	case errors.Is(err, api.ErrRefused):
		return sentence(strings.TrimSuffix(err.Error(), ": "+api.ErrRefused.Error()))
	case errors.Is(err, api.ErrNotFound):
		return "It is not there (any more). Go back and reload."
	case errors.Is(err, api.ErrBusy):
		return "Something else is being done to this app. Wait until it ends and try again."
	case errors.Is(err, api.ErrUnavailable):
		return "The box is not ready yet. Try again in a minute."
	case errors.Is(err, api.ErrGone):
		return "This box is already set up. Sign in instead."
	case errors.Is(err, api.ErrUnauthorized):
		return "Sign in again, then repeat what you did."
	}
	return "The box could not do that. Try again; if it keeps failing, look at the activity log in Settings."
}

// sentence capitalises an error message and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	rs := []rune(s)
	rs[0] = unicode.ToUpper(rs[0])
	s = string(rs)
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// setRetryAfter adds Retry-After for a rate-limited error.
func setRetryAfter(w http.ResponseWriter, err error) {
	var retry *api.RetryError
	if errors.As(err, &retry) {
		secs := int((retry.After + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
}

func (u *UI) notFound(w http.ResponseWriter, r *http.Request) {
	u.renderError(w, r, http.StatusNotFound, "Not found", "There is no page here. Go back to the start.")
}
