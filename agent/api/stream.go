package api

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// sse writes a text/event-stream answer. The headers go out with the first
// event, so a request that fails before any event gets a plain JSON error.
type sse struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
}

func newSSE(w http.ResponseWriter) *sse {
	return &sse{w: w, rc: http.NewResponseController(w)}
}

// start sends the headers.
func (e *sse) start() error {
	if e.started {
		return nil
	}
	e.started = true
	h := e.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	e.w.WriteHeader(http.StatusOK)
	return e.rc.Flush()
}

// send writes one event of the given type ("" for the default "message")
// whose data is v's JSON (one line: JSON escapes newlines), and flushes it.
func (e *sse) send(event string, v any) error {
	if err := e.start(); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	if event != "" {
		if _, err := fmt.Fprintf(e.w, "event: %s\n", event); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(e.w, "data: %s\n\n", b); err != nil {
		return err
	}
	return e.rc.Flush()
}

// operationEvents streams an operation's progress, ending after the event
// with Done set.
func (s *Server) operationEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := checkName("operation id", id)
	if err == nil {
		_, err = query(r)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	events, err := s.svc.WatchOperation(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := newSSE(w)
	if err := out.start(); err != nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case p, ok := <-events:
			if !ok {
				return
			}
			if err := out.send("", p); err != nil || p.Done {
				return
			}
		}
	}
}

// logs streams an app's log lines. An error after the first line is sent
// as an "error" event carrying an ErrorResponse.
func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	id, err := appID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q, err := query(r, "service", "tail", "follow")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var opts LogOptions
	opts.Service = q.Get("service")
	if opts.Service != "" {
		if err := checkName("query parameter \"service\"", opts.Service); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	tail, err := queryInt(q, "tail", maxTail)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	opts.Tail = int(tail)
	if opts.Follow, err = queryBool(q, "follow"); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	out := newSSE(w)
	err = s.svc.Logs(ctx, id, opts, func(l LogLine) error { return out.send("", l) })
	switch {
	case err == nil || ctx.Err() != nil:
		out.start() // an empty log is an empty stream
	case !out.started:
		s.fail(w, r, err)
	default:
		code, _ := classify(err)
		out.send("error", ErrorResponse{Error: err.Error(), Code: code})
	}
}
