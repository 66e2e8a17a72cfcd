package accounts

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/state"
)

// testClock moves only when told.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type activityLog struct {
	mu      sync.Mutex
	entries []string
}

func (l *activityLog) add(actor, action, outcome, detail string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, action+" "+outcome+" "+detail)
}

// newService opens a store in a temporary folder and returns a Service on
// it with cheap hashing parameters, one owner "anna" and one member "ben".
func newService(t *testing.T) (*Service, *testClock, *activityLog) {
	t.Helper()
	clock := &testClock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	store, err := state.Open(filepath.Join(t.TempDir(), "state.db"), state.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log := &activityLog{}
	s, err := New(Config{Store: store, Now: clock.Now, Activity: log.add,
		Options: Options{Params: Params{Memory: 64, Time: 1, Threads: 1}, FreeFailures: 3, LockBase: time.Second, LockMax: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, u := range []api.AddUserRequest{{Name: "anna", Password: "violet-otter-climbs", Role: api.RoleOwner},
		{Name: "ben", Password: "amber-falcon-sings", Role: api.RoleMember}} {
		if _, err := s.AddUser(ctx, u); err != nil {
			t.Fatalf("AddUser(%s): %v", u.Name, err)
		}
	}
	return s, clock, log
}

func login(t *testing.T, s *Service, user, password string) api.LoginResult {
	t.Helper()
	res, err := s.Login(context.Background(), api.LoginRequest{User: user, Password: password, UserAgent: "test"})
	if err != nil {
		t.Fatalf("Login(%s): %v", user, err)
	}
	return res
}

func TestLoginAndAuthenticate(t *testing.T) {
	s, clock, _ := newService(t)
	ctx := context.Background()
	first := login(t, s, "anna", "violet-otter-climbs")
	second := login(t, s, "anna", "violet-otter-climbs")
	if first.Token == second.Token || first.Session.ID == second.Session.ID {
		t.Error("two sign-ins got the same token or id: want a new session each time")
	}
	got, err := s.Authenticate(ctx, first.Token)
	if err != nil {
		t.Fatal(err)
	}
	if got.User != "anna" || got.Role != api.RoleOwner || got.ID != first.Session.ID {
		t.Errorf("Authenticate: got %+v, want anna's owner session %s", got, first.Session.ID)
	}
	cases := []struct {
		name    string
		advance time.Duration
		token   string
	}{
		{"malformed", 0, "abc"},
		{"unknown", 0, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"idle for 7 days", 7*24*time.Hour + time.Second, second.Token},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock.Advance(c.advance)
			if _, err := s.Authenticate(ctx, c.token); !errors.Is(err, api.ErrUnauthorized) {
				t.Errorf("got %v, want ErrUnauthorized", err)
			}
		})
	}
}

func TestAbsoluteExpiry(t *testing.T) {
	s, clock, _ := newService(t)
	ctx := context.Background()
	res := login(t, s, "anna", "violet-otter-climbs")
	for range 29 { // used every day: the idle timeout never strikes
		clock.Advance(24 * time.Hour)
		if _, err := s.Authenticate(ctx, res.Token); err != nil {
			t.Fatalf("day %s: %v", clock.Now(), err)
		}
	}
	clock.Advance(24 * time.Hour)
	if _, err := s.Authenticate(ctx, res.Token); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("after 30 days: got %v, want ErrUnauthorized", err)
	}
}

func TestRevokedSessionFails(t *testing.T) {
	s, _, log := newService(t)
	ctx := context.Background()
	res := login(t, s, "ben", "amber-falcon-sings")
	other := login(t, s, "ben", "amber-falcon-sings")
	if err := s.RevokeSession(ctx, "anna", res.Session.ID); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("revoke ben's session as anna's: got %v, want ErrNotFound", err)
	}
	if err := s.RevokeSession(ctx, "ben", res.Session.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, res.Token); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("revoked: got %v, want ErrUnauthorized", err)
	}
	if _, err := s.Authenticate(ctx, other.Token); err != nil {
		t.Errorf("the other session: got %v, want it alive", err)
	}
	list, _ := s.Sessions(ctx, "ben")
	if len(list) != 1 || list[0].ID != other.Session.ID {
		t.Errorf("Sessions(ben): got %+v, want only %s", list, other.Session.ID)
	}
	if err := s.Logout(ctx, other.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, other.Token); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("signed out: got %v, want ErrUnauthorized", err)
	}
	if !containsPrefix(log.entries, `session-revoke done user "ben"`) {
		t.Errorf("activity: got %q, want a session-revoke entry", log.entries)
	}
}

func containsPrefix(list []string, p string) bool {
	for _, s := range list {
		if len(s) >= len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	s, _, _ := newService(t)
	a1 := login(t, s, "anna", "violet-otter-climbs")
	a2 := login(t, s, "anna", "violet-otter-climbs")
	b := login(t, s, "ben", "amber-falcon-sings")
	ctx := api.WithSession(context.Background(), a1.Session.ID)
	if err := s.ChangePassword(ctx, "anna", "wrong-password-here", "crimson-heron-waits"); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("wrong old password: got %v, want ErrUnauthorized", err)
	}
	if err := s.ChangePassword(ctx, "anna", "violet-otter-climbs", "short"); !errors.Is(err, api.ErrInvalid) || !errors.Is(err, ErrWeakPassword) {
		t.Errorf("weak new password: got %v, want ErrInvalid and ErrWeakPassword", err)
	}
	if err := s.ChangePassword(ctx, "anna", "violet-otter-climbs", "crimson-heron-waits"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		token string
		alive bool
	}{
		{"the session that changed it", a1.Token, true},
		{"anna's other session", a2.Token, false},
		{"ben's session", b.Token, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Authenticate(context.Background(), c.token)
			if alive := err == nil; alive != c.alive {
				t.Errorf("got alive %v (%v), want %v", alive, err, c.alive)
			}
		})
	}
	if _, err := s.Login(context.Background(), api.LoginRequest{User: "anna", Password: "violet-otter-climbs"}); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("old password: got %v, want ErrUnauthorized", err)
	}
	login(t, s, "anna", "crimson-heron-waits")
}

func TestLockoutWithGrowingDelay(t *testing.T) {
	s, clock, log := newService(t)
	ctx := context.Background()
	wrong := api.LoginRequest{User: "anna", Password: "not-her-password"}
	for i := range 3 { // FreeFailures: 3
		if _, err := s.Login(ctx, wrong); !errors.Is(err, api.ErrUnauthorized) {
			t.Fatalf("failure %d: got %v, want ErrUnauthorized", i+1, err)
		}
	}
	var delays []time.Duration
	for range 4 {
		_, _ = s.Login(ctx, wrong) // starts a lock
		_, err := s.Login(ctx, api.LoginRequest{User: "anna", Password: "violet-otter-climbs"})
		var re *api.RetryError
		if !errors.As(err, &re) || !errors.Is(err, api.ErrTooMany) {
			t.Fatalf("while locked, even the right password: got %v, want a RetryError", err)
		}
		delays = append(delays, re.After)
		clock.Advance(re.After)
	}
	if diff := cmp.Diff([]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}, delays); diff != "" {
		t.Errorf("delays (-want +got):\n%s", diff)
	}
	// Unknown names lock out the same way: a lock reveals nothing.
	for range 4 {
		_, _ = s.Login(ctx, api.LoginRequest{User: "nobody", Password: "whatever-it-is"})
	}
	if _, err := s.Login(ctx, api.LoginRequest{User: "nobody", Password: "x"}); !errors.Is(err, api.ErrTooMany) {
		t.Errorf("unknown name: got %v, want ErrTooMany", err)
	}
	// After the lock, the right password works and forgives.
	login(t, s, "anna", "violet-otter-climbs")
	if !containsPrefix(log.entries, `lockout locked user "anna"`) || !containsPrefix(log.entries, `login failed user "anna"`) {
		t.Errorf("activity: got %q, want login failures and a lockout", log.entries)
	}
}

func TestTOTPEnrolConfirmSignIn(t *testing.T) {
	s, clock, _ := newService(t)
	ctx := context.Background()
	en, err := s.EnrollTOTP(ctx, "anna")
	if err != nil {
		t.Fatal(err)
	}
	// Not on until confirmed.
	if res := login(t, s, "anna", "violet-otter-climbs"); res.NeedTOTP || res.Token == "" {
		t.Errorf("before confirming: got %+v, want a plain sign-in", res)
	}
	code := func() string {
		c, err := TOTPCode(en.Secret, TOTPStep(clock.Now()))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := s.ConfirmTOTP(ctx, "anna", "000000"); !errors.Is(err, api.ErrUnauthorized) && code() != "000000" {
		t.Errorf("wrong code: got %v, want ErrUnauthorized", err)
	}
	if err := s.ConfirmTOTP(ctx, "anna", code()); err != nil {
		t.Fatal(err)
	}
	users, _ := s.Users(ctx)
	if !users[0].TOTP {
		t.Errorf("Users: got %+v, want anna with TOTP on", users[0])
	}
	// The confirming code's step is used: wait for the next one.
	clock.Advance(30 * time.Second)
	res, err := s.Login(ctx, api.LoginRequest{User: "anna", Password: "violet-otter-climbs"})
	if err != nil || !res.NeedTOTP || res.Token != "" {
		t.Fatalf("without a code: got %+v, %v, want NeedTOTP and no token", res, err)
	}
	c := code()
	res, err = s.Login(ctx, api.LoginRequest{User: "anna", Password: "violet-otter-climbs", TOTP: c})
	if err != nil || res.Token == "" {
		t.Fatalf("with the code: got %+v, %v, want a session", res, err)
	}
	if _, err := s.Login(ctx, api.LoginRequest{User: "anna", Password: "violet-otter-climbs", TOTP: c}); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("the same code again: got %v, want ErrUnauthorized", err)
	}
	if err := s.DisableTOTP(ctx, "anna", "wrong-password-x"); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("disable with a wrong password: got %v, want ErrUnauthorized", err)
	}
	if err := s.DisableTOTP(ctx, "anna", "violet-otter-climbs"); err != nil {
		t.Fatal(err)
	}
	if res := login(t, s, "anna", "violet-otter-climbs"); res.NeedTOTP {
		t.Error("after disabling: got NeedTOTP, want a plain sign-in")
	}
}

func TestUsers(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	b := login(t, s, "ben", "amber-falcon-sings")
	cases := []struct {
		name string
		do   func() error
		want error
	}{
		{"bad name", func() error {
			_, err := s.AddUser(ctx, api.AddUserRequest{Name: "Carl!", Password: "violet-otter-climbs", Role: api.RoleMember})
			return err
		}, api.ErrInvalid},
		{"bad role", func() error {
			_, err := s.AddUser(ctx, api.AddUserRequest{Name: "carl", Password: "violet-otter-climbs", Role: "root"})
			return err
		}, api.ErrInvalid},
		{"taken name", func() error {
			_, err := s.AddUser(ctx, api.AddUserRequest{Name: "ben", Password: "violet-otter-climbs", Role: api.RoleMember})
			return err
		}, api.ErrInvalid},
		{"last owner", func() error { return s.RemoveUser(ctx, "anna") }, api.ErrRefused},
		{"unknown", func() error { return s.RemoveUser(ctx, "carl") }, api.ErrNotFound},
		{"remove ben", func() error { return s.RemoveUser(ctx, "ben") }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.do(); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
	if _, err := s.Authenticate(ctx, b.Token); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("removed user's session: got %v, want ErrUnauthorized", err)
	}
}
