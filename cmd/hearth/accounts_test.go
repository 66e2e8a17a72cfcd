package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

// accountsSample is a claimed box with an owner, a member and sessions.
func accountsSample(f *apitest.Fake) {
	f.Accounts = apitest.Accounts{
		UserList: []api.User{{Name: "anna", Role: api.RoleOwner, TOTP: true, Created: apitest.T0.Add(-48 * time.Hour)},
			{Name: "ben", Role: api.RoleMember, Created: apitest.T0.Add(-24 * time.Hour)}},
		SessionList: []api.Session{
			{ID: "k3J9xQ", User: "anna", Role: api.RoleOwner, Created: apitest.T0.Add(-2 * time.Hour), LastSeen: apitest.T0.Add(-time.Minute),
				Expires: apitest.T0.Add(7 * 24 * time.Hour), UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"},
			{ID: "p0Lm2a", User: "ben", Role: api.RoleMember, Created: apitest.T0.Add(-time.Hour), LastSeen: apitest.T0.Add(-time.Hour),
				Expires: apitest.T0.Add(6 * 24 * time.Hour)},
		},
		Setup: api.SetupState{Claimed: true, Step: api.StepDone},
	}
}

// unclaimed is a box waiting for its owner.
func unclaimed(f *apitest.Fake) {
	f.Accounts = apitest.Accounts{Setup: api.SetupState{Step: api.StepWelcome}, Code: "K7QX-M2PD-9WRT"}
}

func TestAccountOutput(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("violet-otter-climbs\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup func(f *apitest.Fake)
		args  []string
	}{
		{"setup_code", unclaimed, []string{"setup", "code"}},
		{"setup_code_claimed", accountsSample, []string{"setup", "code"}},
		{"reset_without_yes", accountsSample, []string{"reset", "--factory"}},
		{"reset", accountsSample, []string{"reset", "--factory", "--yes"}},
		{"user_ls", accountsSample, []string{"user", "ls"}},
		{"user_ls_none", unclaimed, []string{"user", "ls"}},
		{"user_add", accountsSample, []string{"user", "add", "carl", "--password-file", pw}},
		{"user_add_weak", func(f *apitest.Fake) {
			accountsSample(f)
			f.Err = map[string]error{"AddUser": &api.Error{Status: 400, Code: api.CodeInvalid, Message: "password: is one of the most common passwords: choose another: invalid request"}}
		}, []string{"user", "add", "carl", "--password-file", pw}},
		{"user_rm_last_owner", func(f *apitest.Fake) {
			accountsSample(f)
			f.Err = map[string]error{"RemoveUser": &api.Error{Status: 422, Code: api.CodeRefused, Message: `user "anna": the last owner cannot be removed: refused`}}
		}, []string{"user", "rm", "anna"}},
		{"user_passwd_locked", func(f *apitest.Fake) {
			accountsSample(f)
			f.Err = map[string]error{"ChangePassword": &api.RetryError{After: 2 * time.Minute}}
		}, []string{"user", "passwd", "anna", "--old-file", pw, "--new-file", pw}},
		{"session_ls", accountsSample, []string{"session", "ls"}},
		{"session_revoke", accountsSample, []string{"session", "revoke", "p0Lm2a"}},
		{"session_revoke_unknown", accountsSample, []string{"session", "revoke", "nope"}},
		{"help_user", nil, []string{"user", "--help"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := apitest.Sample()
			if tt.setup != nil {
				tt.setup(f)
			}
			golden(t, tt.name, hearth(hearthd(t, f), tt.args...))
		})
	}
}

func TestAccountCalls(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("violet otter climbs\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want apitest.Call
	}{
		{"add an owner", []string{"user", "add", "carl", "--role", "owner", "--password-file", pw}, apitest.Call{Method: "AddUser", Args: []any{"carl", "owner"}}},
		{"remove", []string{"user", "rm", "ben"}, apitest.Call{Method: "RemoveUser", Args: []any{"ben"}}},
		{"sessions of one user", []string{"session", "ls", "--user", "ben"}, apitest.Call{Method: "Sessions", Args: []any{"ben"}}},
		{"revoke one of ben's", []string{"session", "revoke", "p0Lm2a", "--user", "ben"}, apitest.Call{Method: "RevokeSession", Args: []any{"ben", "p0Lm2a"}}},
		{"reset", []string{"reset", "--factory", "--yes"}, apitest.Call{Method: "FactoryReset"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := apitest.Sample()
			accountsSample(f)
			if r := hearth(hearthd(t, f), tt.args...); r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			calls := f.Calls()
			got := calls[len(calls)-1]
			got.Actor = ""
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("call (-want +got):\n%s", diff)
			}
		})
	}
}
