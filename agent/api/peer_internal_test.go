package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestAuthorize checks the uid rule: root in, everyone else out.
func TestAuthorize(t *testing.T) {
	tests := []struct {
		name string
		p    peer
		want error
	}{
		{"root", peer{UID: 0, PID: 1, Comm: "hearth"}, nil},
		{"user", peer{UID: 1000, PID: 2, Comm: "hearth"}, ErrForbidden},
		{"nobody", peer{UID: 65534, PID: 3, Comm: "sh"}, ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := authorize(tt.p); !errors.Is(got, tt.want) || (tt.want == nil) != (got == nil) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestGuard checks that the guard answers 403 to a non-root peer and to a
// connection without credentials, and lets root through with its actor.
func TestGuard(t *testing.T) {
	var gotActor string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotActor = ActorFrom(r.Context())
		w.WriteHeader(http.StatusOK)
	})
	s := NewServer(nil, ServerConfig{})
	h := s.guard(next)
	tests := []struct {
		name       string
		ctx        context.Context
		wantStatus int
		wantActor  string
	}{
		{"root", context.WithValue(context.Background(), peerKey{}, peerResult{p: peer{UID: 0, PID: 42, Comm: "hearth"}}), 200, "uid 0 pid 42 (hearth)"},
		{"uid 1000", context.WithValue(context.Background(), peerKey{}, peerResult{p: peer{UID: 1000, PID: 43, Comm: "hearth"}}), 403, ""},
		{"no credentials", context.WithValue(context.Background(), peerKey{}, peerResult{err: errors.New("peer credentials: not unix")}), 403, ""},
		{"not a connection of the server", context.Background(), 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotActor = ""
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/v1/status", nil).WithContext(tt.ctx))
			if w.Code != tt.wantStatus || gotActor != tt.wantActor {
				t.Errorf("got %d, actor %q, want %d, actor %q", w.Code, gotActor, tt.wantStatus, tt.wantActor)
			}
			if tt.wantStatus == 403 {
				var er ErrorResponse
				if err := json.Unmarshal(w.Body.Bytes(), &er); err != nil || er.Code != CodeForbidden {
					t.Errorf("got body %q (%v), want code %q", w.Body, err, CodeForbidden)
				}
			}
		})
	}
}
