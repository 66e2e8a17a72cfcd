package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/hearthbox/hearth/agent/api"
)

// operation shows an operation's steps. Without JavaScript the page
// reloads itself while the operation runs; with it, app.js follows the
// live events (download percentage, steps) and reloads once at the end.
func (u *UI) operation(w http.ResponseWriter, r *http.Request, v *viewer) {
	op, err := u.backend.Operation(r.Context(), r.PathValue("id"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	view := opView{Op: op, Percent: -1}
	if a, err := u.backend.App(r.Context(), op.App); err == nil {
		view.App = a
	} else if !errors.Is(err, api.ErrNotFound) {
		u.fail(w, r, err)
		return
	}
	p := u.basePage(w, r, v, opHeading(op), "")
	if view.Running() {
		p.Refresh = 2
	}
	u.render(w, r, http.StatusOK, operationPage(p, view))
}

// sse writes server-sent events; it is safe for concurrent use.
type sse struct {
	mu sync.Mutex // guards w
	w  http.ResponseWriter
	rc *http.ResponseController
}

func startSSE(w http.ResponseWriter) *sse {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	s := &sse{w: w, rc: http.NewResponseController(w)}
	// A stream outlives a server's write timeout (the proxy's port 80 has
	// one): lift it for this response where the server allows.
	_ = s.rc.SetWriteDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = fmt.Fprint(w, ": hearth\n\n")
	_ = s.rc.Flush()
	return s
}

// send writes one event with v as JSON data.
func (s *sse) send(event string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", event, data); err != nil {
		return err
	}
	return s.rc.Flush()
}

// operationEvents streams an operation's progress until it ends.
func (u *UI) operationEvents(w http.ResponseWriter, r *http.Request, v *viewer) {
	ch, err := u.backend.WatchOperation(r.Context(), r.PathValue("id"))
	if err != nil {
		http.Error(w, messageOf(err), statusOf(err))
		return
	}
	s := startSSE(w)
	for {
		select {
		case <-r.Context().Done():
			return
		case p, ok := <-ch:
			if !ok {
				return
			}
			if err := s.send("progress", p); err != nil {
				return
			}
		}
	}
}

// logEvents streams an app's last lines and then its new ones.
func (u *UI) logEvents(w http.ResponseWriter, r *http.Request, v *viewer) {
	id := r.PathValue("id")
	if _, err := u.backend.App(r.Context(), id); err != nil {
		http.Error(w, messageOf(err), statusOf(err))
		return
	}
	s := startSSE(w)
	err := u.backend.Logs(r.Context(), id, api.LogOptions{Follow: true, Tail: logTail}, func(l api.LogLine) error {
		return s.send("log", l)
	})
	if err != nil && r.Context().Err() == nil {
		u.log.Debug("log stream ended", "app", id, "err", err)
	}
}
