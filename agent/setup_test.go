package agent

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/accounts"
	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/catalog"
	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/firstboot"
)

// noRuntime stands in for containerd in tests that never reach it: a
// call panics.
type noRuntime struct{ Runtime }

// setupClock is a clock the test moves.
type setupClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *setupClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *setupClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// setupBox is an agent with the real first-boot pieces (code files, the
// limiter, the host name and time zone written to files) on a store in
// dir.
type setupBox struct {
	a     *Agent
	store *state.Store
	dir   string
	clock *setupClock
	codes *firstboot.Codes
}

func newSetupBox(t *testing.T, dir string, clock *setupClock) *setupBox {
	t.Helper()
	store, err := state.Open(filepath.Join(dir, "hearth.db"), state.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	codes, err := firstboot.NewCodes(firstboot.CodesConfig{StateDir: dir, ConsoleFile: filepath.Join(dir, "issue.d", "hearth.issue")})
	if err != nil {
		t.Fatal(err)
	}
	sys := firstboot.NewSystem(firstboot.SystemConfig{HostnameFile: filepath.Join(dir, "hostname"), TimezoneFile: filepath.Join(dir, "timezone")})
	a, err := New(Config{Store: store, Runtime: noRuntime{}, Catalogs: catalog.NewManager(catalog.Config{}), DataRoot: filepath.Join(dir, "apps"),
		Now: clock.Now,
		Setup: SetupConfig{Code: codes, Limiter: firstboot.NewLimiter(firstboot.LimiterConfig{Free: 2, Base: time.Second, Max: time.Minute, Now: clock.Now}),
			Hostname: sys, TimeZone: sys},
		Accounts: accounts.Options{Params: accounts.Params{Memory: 64, Time: 1, Threads: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	a.startSetup(context.Background())
	return &setupBox{a: a, store: store, dir: dir, clock: clock, codes: codes}
}

func (b *setupBox) code(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(b.codes.CodeFile())
	if err != nil {
		t.Fatalf("code file: %v", err)
	}
	return strings.TrimSpace(string(raw))
}

func newClock() *setupClock {
	return &setupClock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
}

func TestSetupWrongCodeAndRateLimit(t *testing.T) {
	b := newSetupBox(t, t.TempDir(), newClock())
	ctx := context.Background()
	console, err := os.ReadFile(filepath.Join(b.dir, "issue.d", "hearth.issue"))
	if err != nil || !strings.Contains(string(console), b.code(t)) {
		t.Fatalf("console file: got %q, %v, want it to show the code", console, err)
	}
	for i := range 2 { // two free tries
		if _, err := b.a.UnlockSetup(ctx, "AAAA-AAAA-AAAA"); !errors.Is(err, api.ErrUnauthorized) {
			t.Fatalf("wrong code %d: got %v, want ErrUnauthorized", i+1, err)
		}
	}
	if _, err := b.a.UnlockSetup(ctx, "AAAA-AAAA-AAAA"); !errors.Is(err, api.ErrUnauthorized) {
		t.Fatalf("third wrong code: got %v, want ErrUnauthorized (it starts the delay)", err)
	}
	_, err = b.a.UnlockSetup(ctx, b.code(t))
	var re *api.RetryError
	if !errors.As(err, &re) || re.After != time.Second {
		t.Fatalf("even the right code while limited: got %v, want a RetryError of 1s", err)
	}
	b.clock.Advance(time.Second)
	token, err := b.a.UnlockSetup(ctx, strings.ToLower(strings.ReplaceAll(b.code(t), "-", " ")))
	if err != nil || token == "" {
		t.Fatalf("the right code, typed loosely, after the delay: got %q, %v", token, err)
	}
	st, err := b.a.SetupState(ctx, token)
	if err != nil || st.Step != api.StepOwner {
		t.Errorf("SetupState: got %+v, %v, want step owner", st, err)
	}
	if _, err := b.a.SetupState(ctx, "not-a-token"); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("SetupState with a wrong token: got %v, want ErrUnauthorized", err)
	}
	if st, err := b.a.SetupState(ctx, ""); err != nil || st.Step != api.StepWelcome || st.Owner != "" {
		t.Errorf("SetupState without a token: got %+v, %v, want the welcome step only", st, err)
	}
	acts, _ := b.a.Activity(ctx, 0, 100)
	var failed int
	for _, act := range acts {
		if act.Action == "setup-unlock" && act.Outcome == "failed" {
			failed++
		}
	}
	if failed != 3 {
		t.Errorf("activity: got %d failed unlocks, want 3", failed)
	}
}

// wizardTo runs the wizard's steps up to and including step.
func wizardTo(t *testing.T, b *setupBox, token, step string) {
	t.Helper()
	ctx := context.Background()
	steps := []struct {
		name string
		do   func() error
	}{
		{api.StepOwner, func() error { return b.a.SetupOwner(ctx, token, "anna", "violet-otter-climbs") }},
		{api.StepBox, func() error {
			return b.a.SetupBox(ctx, token, api.SetupBoxRequest{Name: "living-room", Timezone: "Europe/Berlin"})
		}},
		{api.StepAccess, func() error { return b.a.SetupAccess(ctx, token, api.SetupAccessRequest{Mode: api.AccessLAN}) }},
		{api.StepApps, func() error { return b.a.SetupApps(ctx, token, nil) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("step %s: %v", s.name, err)
		}
		if s.name == step {
			return
		}
	}
}

func TestSetupStepsValidate(t *testing.T) {
	b := newSetupBox(t, t.TempDir(), newClock())
	ctx := context.Background()
	token, err := b.a.UnlockSetup(ctx, b.code(t))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		do    func() error
		field string
	}{
		{"box before owner", func() error {
			return b.a.SetupBox(ctx, token, api.SetupBoxRequest{Name: "home", Timezone: "UTC"})
		}, "owner:"},
		{"weak password", func() error { return b.a.SetupOwner(ctx, token, "anna", "password123") }, "common passwords"},
		{"password with the name", func() error { return b.a.SetupOwner(ctx, token, "annabelle", "annabelle-rocks-1") }, "user name"},
		{"bad owner name", func() error { return b.a.SetupOwner(ctx, token, "Anna B", "violet-otter-climbs") }, "name"},
		{"bad box name", func() error {
			return b.a.SetupBox(ctx, token, api.SetupBoxRequest{Name: "Living Room", Timezone: "UTC"})
		}, "name"},
		{"bad time zone", func() error {
			return b.a.SetupBox(ctx, token, api.SetupBoxRequest{Name: "home", Timezone: "Mars/Olympus"})
		}, "timezone"},
		{"bad access", func() error { return b.a.SetupAccess(ctx, token, api.SetupAccessRequest{Mode: "vpn"}) }, "mode"},
		{"domain without provider", func() error {
			return b.a.SetupAccess(ctx, token, api.SetupAccessRequest{Mode: api.AccessDomain, Domain: "example.org"})
		}, "provider"},
		{"unknown app", func() error { return b.a.SetupApps(ctx, token, []string{"nextcloud"}) }, "apps[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.do()
			if !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), c.field) {
				t.Errorf("got %v, want ErrInvalid naming %q", err, c.field)
			}
		})
	}
}

// TestSetupResumesAfterACrash stops the box between steps (closing the
// store, as a crash or a reboot does), starts it again on the same state,
// and finishes the wizard with the token from before.
func TestSetupResumesAfterACrash(t *testing.T) {
	dir, clock := t.TempDir(), newClock()
	ctx := context.Background()
	b := newSetupBox(t, dir, clock)
	code := b.code(t)
	token, err := b.a.UnlockSetup(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	wizardTo(t, b, token, api.StepBox)
	b.store.Close()

	b = newSetupBox(t, dir, clock)
	if got := b.code(t); got != code {
		t.Errorf("code after a restart: got %s, want the same %s", got, code)
	}
	st, err := b.a.SetupState(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	want := api.SetupState{Step: api.StepAccess, Owner: "anna", BoxName: "living-room", Timezone: "Europe/Berlin"}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("state after a restart (-want +got):\n%s", diff)
	}
	for _, f := range []struct{ name, want string }{{"hostname", "living-room\n"}, {"timezone", "Europe/Berlin\n"}} {
		if got, _ := os.ReadFile(filepath.Join(dir, f.name)); string(got) != f.want {
			t.Errorf("%s file: got %q, want %q", f.name, got, f.want)
		}
	}
	if _, err := b.a.FinishSetup(ctx, token, "test"); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("finish before access: got %v, want ErrInvalid", err)
	}
	if err := b.a.SetupAccess(ctx, token, api.SetupAccessRequest{Mode: api.AccessLAN}); err != nil {
		t.Fatal(err)
	}
	if err := b.a.SetupApps(ctx, token, []string{}); err != nil {
		t.Fatal(err)
	}
	res, err := b.a.FinishSetup(ctx, token, "test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Token == "" || res.Session.User != "anna" || res.Session.Role != api.RoleOwner {
		t.Errorf("FinishSetup: got %+v, want the owner signed in", res)
	}
	if _, err := b.a.Authenticate(ctx, res.Token); err != nil {
		t.Errorf("the claim's session: got %v, want it valid", err)
	}
	if _, err := b.a.Login(ctx, api.LoginRequest{User: "anna", Password: "violet-otter-climbs"}); err != nil {
		t.Errorf("owner signs in: got %v", err)
	}
	b.store.Close()

	// After the claim, a restart leaves the code void.
	b = newSetupBox(t, dir, clock)
	if _, err := os.Stat(b.codes.CodeFile()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("code file after the claim: got %v, want it gone", err)
	}
}

func TestSetupAfterClaimIsGone(t *testing.T) {
	b := newSetupBox(t, t.TempDir(), newClock())
	ctx := context.Background()
	code := b.code(t)
	token, err := b.a.UnlockSetup(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	wizardTo(t, b, token, api.StepApps)
	if _, err := b.a.FinishSetup(ctx, token, "test"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{b.codes.CodeFile(), filepath.Join(b.dir, "issue.d", "hearth.issue")} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s after the claim: got %v, want it gone", p, err)
		}
	}
	calls := []struct {
		name string
		do   func() error
	}{
		{"SetupState", func() error { _, err := b.a.SetupState(ctx, token); return err }},
		{"UnlockSetup", func() error { _, err := b.a.UnlockSetup(ctx, code); return err }},
		{"SetupOwner", func() error { return b.a.SetupOwner(ctx, token, "eve", "violet-otter-climbs") }},
		{"SetupBox", func() error { return b.a.SetupBox(ctx, token, api.SetupBoxRequest{Name: "x", Timezone: "UTC"}) }},
		{"SetupAccess", func() error { return b.a.SetupAccess(ctx, token, api.SetupAccessRequest{Mode: api.AccessLAN}) }},
		{"SetupApps", func() error { return b.a.SetupApps(ctx, token, nil) }},
		{"FinishSetup", func() error { _, err := b.a.FinishSetup(ctx, token, ""); return err }},
		{"SetupCode", func() error { _, err := b.a.SetupCode(ctx); return err }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if err := c.do(); !errors.Is(err, api.ErrGone) {
				t.Errorf("got %v, want ErrGone", err)
			}
		})
	}
}

func TestSetupFactoryReset(t *testing.T) {
	b := newSetupBox(t, t.TempDir(), newClock())
	ctx := context.Background()
	old := b.code(t)
	token, _ := b.a.UnlockSetup(ctx, old)
	wizardTo(t, b, token, api.StepApps)
	res, err := b.a.FinishSetup(ctx, token, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.a.FactoryReset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.a.Authenticate(ctx, res.Token); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("the owner's session after a reset: got %v, want ErrUnauthorized", err)
	}
	if users, _ := b.a.Users(ctx); len(users) != 0 {
		t.Errorf("users after a reset: got %+v, want none", users)
	}
	code := b.code(t)
	if code == old {
		t.Error("the code after a reset is the old one: want a new one")
	}
	if got, err := b.a.SetupCode(ctx); err != nil || got != code {
		t.Errorf("SetupCode: got %q, %v, want %s", got, err, code)
	}
	if _, err := b.a.UnlockSetup(ctx, old); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("the old code: got %v, want ErrUnauthorized", err)
	}
	if _, err := b.a.SetupState(ctx, token); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("the old setup token: got %v, want ErrUnauthorized", err)
	}
	if _, err := b.a.UnlockSetup(ctx, code); err != nil {
		t.Errorf("the new code: got %v", err)
	}
}
