package api_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

func accountsFake() *apitest.Fake {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	sess := api.Session{ID: "s1", User: "anna", Role: api.RoleOwner, Created: t0, LastSeen: t0, Expires: t0.Add(time.Hour)}
	return &apitest.Fake{Accounts: apitest.Accounts{
		UserList:    []api.User{{Name: "anna", Role: api.RoleOwner, Created: t0}, {Name: "ben", Role: api.RoleMember, Created: t0}},
		SessionList: []api.Session{sess, {ID: "s2", User: "ben", Role: api.RoleMember, Created: t0, LastSeen: t0, Expires: t0}},
		LoginResult: api.LoginResult{Token: "tok", Session: sess},
		Enrollment:  api.TOTPEnrollment{Secret: "ABC", URI: "otpauth://totp/x"},
		Setup:       api.SetupState{Step: api.StepOwner},
		SetupToken:  "setup-tok",
		Code:        "ABCD-EFGH-JKMN",
	}}
}

// TestAccountRoundTrip calls every account and setup method through the
// Client and the server, and checks what the fake saw and what came back.
func TestAccountRoundTrip(t *testing.T) {
	f := accountsFake()
	want := accountsFake().Accounts
	c := client(t, server(t, f))
	tests := []struct {
		name     string
		call     func(context.Context) (any, error)
		want     any
		wantCall apitest.Call
	}{
		{"login", func(ctx context.Context) (any, error) {
			return c.Login(ctx, api.LoginRequest{User: "anna", Password: "pw", UserAgent: "ua"})
		}, want.LoginResult, apitest.Call{Method: "Login", Args: []any{"anna"}}},
		{"authenticate", func(ctx context.Context) (any, error) { return c.Authenticate(ctx, "tok") },
			want.LoginResult.Session, apitest.Call{Method: "Authenticate"}},
		{"sessions of ben", func(ctx context.Context) (any, error) { return c.Sessions(ctx, "ben") },
			want.SessionList[1:], apitest.Call{Method: "Sessions", Args: []any{"ben"}}},
		{"revoke", func(ctx context.Context) (any, error) { return nil, c.RevokeSession(ctx, "ben", "s2") },
			nil, apitest.Call{Method: "RevokeSession", Args: []any{"ben", "s2"}}},
		{"logout", func(ctx context.Context) (any, error) { return nil, c.Logout(ctx, "tok") },
			nil, apitest.Call{Method: "Logout"}},
		{"users", func(ctx context.Context) (any, error) { return c.Users(ctx) },
			want.UserList, apitest.Call{Method: "Users"}},
		{"add user", func(ctx context.Context) (any, error) {
			return c.AddUser(ctx, api.AddUserRequest{Name: "carl", Password: "pw", Role: api.RoleMember})
		}, api.User{Name: "carl", Role: api.RoleMember}, apitest.Call{Method: "AddUser", Args: []any{"carl", api.RoleMember}}},
		{"remove user", func(ctx context.Context) (any, error) { return nil, c.RemoveUser(ctx, "carl") },
			nil, apitest.Call{Method: "RemoveUser", Args: []any{"carl"}}},
		{"password", func(ctx context.Context) (any, error) { return nil, c.ChangePassword(ctx, "anna", "a", "b") },
			nil, apitest.Call{Method: "ChangePassword", Args: []any{"anna"}}},
		{"enrol totp", func(ctx context.Context) (any, error) { return c.EnrollTOTP(ctx, "anna") },
			want.Enrollment, apitest.Call{Method: "EnrollTOTP", Args: []any{"anna"}}},
		{"confirm totp", func(ctx context.Context) (any, error) { return nil, c.ConfirmTOTP(ctx, "anna", "123456") },
			nil, apitest.Call{Method: "ConfirmTOTP", Args: []any{"anna", "123456"}}},
		{"disable totp", func(ctx context.Context) (any, error) { return nil, c.DisableTOTP(ctx, "anna", "pw") },
			nil, apitest.Call{Method: "DisableTOTP", Args: []any{"anna"}}},
		{"setup code", func(ctx context.Context) (any, error) { return c.SetupCode(ctx) },
			want.Code, apitest.Call{Method: "SetupCode"}},
		{"setup state", func(ctx context.Context) (any, error) { return c.SetupState(ctx, "setup-tok") },
			want.Setup, apitest.Call{Method: "SetupState"}},
		{"unlock", func(ctx context.Context) (any, error) { return c.UnlockSetup(ctx, "ABCD-EFGH-JKMN") },
			"setup-tok", apitest.Call{Method: "UnlockSetup", Args: []any{"ABCD-EFGH-JKMN"}}},
		{"owner", func(ctx context.Context) (any, error) { return nil, c.SetupOwner(ctx, "setup-tok", "anna", "pw") },
			nil, apitest.Call{Method: "SetupOwner", Args: []any{"anna"}}},
		{"box", func(ctx context.Context) (any, error) {
			return nil, c.SetupBox(ctx, "setup-tok", api.SetupBoxRequest{Name: "home", Timezone: "UTC"})
		}, nil, apitest.Call{Method: "SetupBox", Args: []any{api.SetupBoxRequest{Name: "home", Timezone: "UTC"}}}},
		{"access", func(ctx context.Context) (any, error) {
			return nil, c.SetupAccess(ctx, "setup-tok", api.SetupAccessRequest{Mode: api.AccessDomain, Domain: "example.org", Provider: "desec"})
		}, nil, apitest.Call{Method: "SetupAccess", Args: []any{api.AccessDomain, "example.org", "desec"}}},
		{"apps", func(ctx context.Context) (any, error) { return nil, c.SetupApps(ctx, "setup-tok", []string{"hello"}) },
			nil, apitest.Call{Method: "SetupApps", Args: []any{[]string{"hello"}}}},
		{"finish", func(ctx context.Context) (any, error) { return c.FinishSetup(ctx, "setup-tok", "ua") },
			want.LoginResult, apitest.Call{Method: "FinishSetup"}},
		{"factory reset", func(ctx context.Context) (any, error) { return nil, c.FactoryReset(ctx) },
			nil, apitest.Call{Method: "FactoryReset"}},
	}
	actor := wantActor(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call(context.Background())
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("answer (-want +got):\n%s", diff)
				}
			}
			calls := f.Calls()
			last := calls[len(calls)-1]
			tt.wantCall.Actor = actor
			if diff := cmp.Diff(tt.wantCall, last); diff != "" {
				t.Errorf("call (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAccountErrorsOnTheWire checks the statuses of the new sentinels and
// that a RetryError keeps its delay across the socket (Retry-After).
func TestAccountErrorsOnTheWire(t *testing.T) {
	cases := []struct {
		name       string
		err        error
		wantStatus int
		wantIs     error
		wantAfter  time.Duration
	}{
		{"unauthorized", api.ErrUnauthorized, http.StatusUnauthorized, api.ErrUnauthorized, 0},
		{"gone", api.ErrGone, http.StatusGone, api.ErrGone, 0},
		{"retry", &api.RetryError{After: 1500 * time.Millisecond}, http.StatusTooManyRequests, api.ErrTooMany, 2 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := accountsFake()
			f.Err = map[string]error{"Login": tc.err}
			sock := server(t, f)
			_, err := client(t, sock).Login(context.Background(), api.LoginRequest{User: "anna"})
			if !errors.Is(err, tc.wantIs) {
				t.Errorf("got %v, want it to match %v", err, tc.wantIs)
			}
			var re *api.RetryError
			if tc.wantAfter > 0 && (!errors.As(err, &re) || re.After != tc.wantAfter) {
				t.Errorf("got %v, want a RetryError of %s", err, tc.wantAfter)
			}
			a := raw(t, sock, "POST", "/v1/login", "application/json", `{"user":"anna"}`)
			if a.status != tc.wantStatus {
				t.Errorf("status: got %d, want %d", a.status, tc.wantStatus)
			}
		})
	}
}
