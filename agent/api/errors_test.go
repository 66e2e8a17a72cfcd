package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

// TestErrorCodes checks each sentinel's status and code on the wire, and
// that the Client gives back an error matching the same sentinel with the
// server's message.
func TestErrorCodes(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"not found", fmt.Errorf("app %q: %w", "nextcloud", api.ErrNotFound), 404, "not_found"},
		{"invalid", fmt.Errorf("settings.domain: must be a host name: %w", api.ErrInvalid), 400, "invalid"},
		{"busy", fmt.Errorf("app %q: %w (update op-3)", "nextcloud", api.ErrBusy), 409, "busy"},
		{"refused", fmt.Errorf("needs 4 GiB of memory, 1 GiB free: %w", api.ErrRefused), 422, "refused"},
		{"unavailable", fmt.Errorf("first reconcile pass still running: %w", api.ErrUnavailable), 503, "unavailable"},
		{"internal", errors.New("bbolt: database not open"), 500, "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := apitest.Sample()
			f.Err = map[string]error{"App": tt.err}
			sock := server(t, f)
			a := raw(t, sock, "GET", "/v1/apps/nextcloud", "", "")
			var er api.ErrorResponse
			if err := json.Unmarshal([]byte(a.body), &er); err != nil {
				t.Fatalf("body %q: %v", a.body, err)
			}
			if a.status != tt.wantStatus || er.Code != tt.wantCode || er.Error != tt.err.Error() {
				t.Errorf("got %d %+v, want %d {Error:%s Code:%s}", a.status, er, tt.wantStatus, tt.err, tt.wantCode)
			}

			_, err := client(t, sock).App(context.Background(), "nextcloud")
			want := &api.Error{Status: tt.wantStatus, Code: tt.wantCode, Message: tt.err.Error()}
			var got *api.Error
			if !errors.As(err, &got) {
				t.Fatalf("got %T %v, want *api.Error", err, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("client error (-want +got):\n%s", diff)
			}
			for _, s := range []error{api.ErrNotFound, api.ErrInvalid, api.ErrBusy, api.ErrRefused, api.ErrUnavailable} {
				if got, want := errors.Is(err, s), errors.Is(tt.err, s); got != want {
					t.Errorf("errors.Is(client error, %v): got %v, want %v", s, got, want)
				}
			}
		})
	}
}

// TestBadRequests checks that the server refuses malformed requests with
// 400 (413 for a body too large), naming what is wrong, before it calls
// the service.
func TestBadRequests(t *testing.T) {
	f := apitest.Sample()
	sock := server(t, f)
	tests := []struct {
		name, method, path, ctype, body string
		wantStatus                      int
		wantCode                        string
		wantInMsg                       string
	}{
		{"unknown field", "POST", "/v1/apps", "application/json", `{"app":"x1","verison":"1.0.0"}`, 400, "invalid", `unknown field "verison"`},
		{"wrong type", "POST", "/v1/apps", "application/json", `{"app":"x1","settings":{"a":1}}`, 400, "invalid", "settings: must be string, not number"},
		{"not JSON", "POST", "/v1/catalogs", "application/json", `id=x`, 400, "invalid", "request body: invalid character"},
		{"empty body", "POST", "/v1/apps", "", ``, 400, "invalid", "request body: empty"},
		{"trailing data", "POST", "/v1/apps", "", `{"app":"x1"} {}`, 400, "invalid", "data after the JSON object"},
		{"body too large", "POST", "/v1/apps", "application/json", `{"app":"` + strings.Repeat("a", 1<<20) + `"}`, 413, "invalid", "larger than 1048576 bytes"},
		{"wrong content type", "POST", "/v1/apps", "text/plain", `{"app":"x1"}`, 400, "invalid", `content type "text/plain"`},
		{"query on a POST", "POST", "/v1/apps?force=1", "application/json", `{"app":"x1"}`, 400, "invalid", `query parameter "force": unknown`},
		{"body on start", "POST", "/v1/apps/nextcloud/start", "", `{"force":true}`, 400, "invalid", `unknown field "force"`},
		{"bad app id", "GET", "/v1/apps/Next_Cloud", "", ``, 400, "invalid", `app id "Next_Cloud"`},
		{"bad catalog id", "DELETE", "/v1/catalogs/..%2fetc", "", ``, 400, "invalid", `catalog id "../etc"`},
		{"bad refresh id", "POST", "/v1/catalogs/refresh", "", `{"id":"a b"}`, 400, "invalid", `id "a b"`},
		{"unknown query parameter", "DELETE", "/v1/apps/nextcloud?keepdata=true", "", ``, 400, "invalid", `query parameter "keepdata": unknown`},
		{"bad boolean", "DELETE", "/v1/apps/nextcloud?keepData=yes", "", ``, 400, "invalid", `query parameter "keepData": "yes"`},
		{"parameter twice", "GET", "/v1/store?catalog=a&catalog=b", "", ``, 400, "invalid", `query parameter "catalog": given 2 times`},
		{"bad since", "GET", "/v1/activity?since=-1", "", ``, 400, "invalid", `query parameter "since"`},
		{"limit too high", "GET", "/v1/activity?limit=10001", "", ``, 400, "invalid", `query parameter "limit"`},
		{"tail too high", "GET", "/v1/apps/nextcloud/logs?tail=1000000", "", ``, 400, "invalid", `query parameter "tail"`},
		{"bad service", "GET", "/v1/apps/nextcloud/logs?service=a/b", "", ``, 400, "invalid", `query parameter "service" "a/b"`},
		{"bad operation id", "GET", "/v1/operations/-x", "", ``, 400, "invalid", `operation id "-x"`},
		{"no route", "GET", "/v2/apps", "", ``, 404, "not_found", "no route GET /v2/apps"},
		{"wrong method", "PUT", "/v1/apps/nextcloud", "", ``, 404, "not_found", "no route PUT /v1/apps/nextcloud"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.Calls())
			a := raw(t, sock, tt.method, tt.path, tt.ctype, tt.body)
			var er api.ErrorResponse
			if err := json.Unmarshal([]byte(a.body), &er); err != nil {
				t.Fatalf("body %q: %v", a.body, err)
			}
			if a.status != tt.wantStatus || er.Code != tt.wantCode || !strings.Contains(er.Error, tt.wantInMsg) {
				t.Errorf("got %d %+v, want %d, code %s, a message with %q", a.status, er, tt.wantStatus, tt.wantCode, tt.wantInMsg)
			}
			if calls := f.Calls()[before:]; len(calls) != 0 {
				t.Errorf("got calls %+v, want none", calls)
			}
		})
	}
}

// TestUnreachable checks the error of a Client whose socket is missing.
func TestUnreachable(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	_, err := api.NewClient(sock).Status(context.Background())
	if !errors.Is(err, api.ErrUnreachable) {
		t.Fatalf("got %v, want an error matching ErrUnreachable", err)
	}
	if want := "cannot reach hearthd at " + sock; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %q, want it to start with %q", err, want)
	}
}
