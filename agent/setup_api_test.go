package agent

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hearthbox/hearth/agent/api"
)

// serveAPI serves b's agent on a unix socket, as hearthd does, and returns
// a client of it. The API lets root peers only: the test needs root.
func serveAPI(t *testing.T, b *setupBox) *api.Client {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the API serves root only: run the tests as root")
		}
		t.Skip("the API serves root only")
	}
	sock := filepath.Join(t.TempDir(), "hearthd.sock")
	ln, err := api.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.NewServer(b.a, api.ServerConfig{}).Serve(ctx, ln) }()
	c := api.NewClient(sock)
	t.Cleanup(func() {
		c.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return c
}

// TestSetupOverTheAPI goes through the wizard over the socket: a wrong
// code is 401, the limit 429 with Retry-After, and after the claim every
// setup route is 410.
func TestSetupOverTheAPI(t *testing.T) {
	b := newSetupBox(t, t.TempDir(), newClock())
	c := serveAPI(t, b)
	ctx := context.Background()
	var apiErr *api.Error
	for range 3 {
		_, err := c.UnlockSetup(ctx, "AAAA-AAAA-AAAA")
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
			t.Fatalf("wrong code: got %v, want a 401", err)
		}
	}
	_, err := c.UnlockSetup(ctx, b.code(t))
	var re *api.RetryError
	if !errors.As(err, &re) || !errors.Is(err, api.ErrTooMany) || re.After != time.Second {
		t.Fatalf("limited: got %v, want a RetryError of 1s (429 with Retry-After)", err)
	}
	b.clock.Advance(time.Second)
	token, err := c.UnlockSetup(ctx, b.code(t))
	if err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error { return c.SetupOwner(ctx, token, "anna", "violet-otter-climbs") },
		func() error { return c.SetupBox(ctx, token, api.SetupBoxRequest{Name: "home", Timezone: "UTC"}) },
		func() error { return c.SetupAccess(ctx, token, api.SetupAccessRequest{Mode: api.AccessLAN}) },
		func() error { return c.SetupApps(ctx, token, nil) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	res, err := c.FinishSetup(ctx, token, "test")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := c.Authenticate(ctx, res.Token)
	if err != nil || sess.User != "anna" {
		t.Errorf("Authenticate over the API: got %+v, %v", sess, err)
	}
	gone := []struct {
		name string
		do   func() error
	}{
		{"state", func() error { _, err := c.SetupState(ctx, token); return err }},
		{"unlock", func() error { _, err := c.UnlockSetup(ctx, "x"); return err }},
		{"owner", func() error { return c.SetupOwner(ctx, token, "eve", "violet-otter-climbs") }},
		{"finish", func() error { _, err := c.FinishSetup(ctx, token, ""); return err }},
		{"code", func() error { _, err := c.SetupCode(ctx); return err }},
	}
	for _, g := range gone {
		t.Run(g.name, func(t *testing.T) {
			err := g.do()
			if !errors.As(err, &apiErr) || apiErr.Status != http.StatusGone || !errors.Is(err, api.ErrGone) {
				t.Errorf("got %v, want a 410", err)
			}
		})
	}
}

// TestAccountLockoutOverTheAPI: repeated wrong passwords lock the name out
// with a growing Retry-After, and a revoked session stops working.
func TestAccountLockoutOverTheAPI(t *testing.T) {
	b := newSetupBox(t, t.TempDir(), newClock())
	c := serveAPI(t, b)
	ctx := context.Background()
	if _, err := b.a.acct.AddUser(ctx, api.AddUserRequest{Name: "anna", Password: "violet-otter-climbs", Role: api.RoleOwner}); err != nil {
		t.Fatal(err)
	}
	wrong := api.LoginRequest{User: "anna", Password: "wrong-password-x"}
	for range 5 { // the free failures
		if _, err := c.Login(ctx, wrong); !errors.Is(err, api.ErrUnauthorized) {
			t.Fatalf("wrong password: got %v, want ErrUnauthorized", err)
		}
	}
	var afters []time.Duration
	for range 3 {
		_, _ = c.Login(ctx, wrong)
		_, err := c.Login(ctx, wrong)
		var re *api.RetryError
		if !errors.As(err, &re) {
			t.Fatalf("locked: got %v, want a RetryError", err)
		}
		afters = append(afters, re.After)
		b.clock.Advance(re.After)
	}
	if !(afters[0] < afters[1] && afters[1] < afters[2]) {
		t.Errorf("Retry-After: got %v, want it growing", afters)
	}
	res, err := c.Login(ctx, api.LoginRequest{User: "anna", Password: "violet-otter-climbs"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.Sessions(ctx, "anna")
	if err != nil || len(list) != 1 {
		t.Fatalf("Sessions: got %+v, %v, want one", list, err)
	}
	if err := c.RevokeSession(ctx, "anna", list[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Authenticate(ctx, res.Token); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("revoked session: got %v, want ErrUnauthorized (401)", err)
	}
}
