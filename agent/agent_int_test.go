package agent_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hearthbox/hearth/agent"
	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/catalog"
	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/internal/samplecatalog"
	"github.com/hearthbox/hearth/internal/testenv"
	rt "github.com/hearthbox/hearth/runtime"
	"github.com/hearthbox/hearth/runtime/logfile"
	"github.com/hearthbox/hearth/runtime/network"
	"net/netip"
)

func TestMain(m *testing.M) {
	if logfile.IsDriverInvocation(os.Args[1:], os.Getenv) {
		os.Exit(logfile.Main())
	}
	os.Exit(m.Run())
}

// runAgent wires an agent to a private containerd and the sample catalog,
// runs it, and stops it all at the end of the test.
func runAgent(t *testing.T) *agent.Agent {
	t.Helper()
	d := testenv.StartContainerd(t)
	dir := t.TempDir()
	samples, err := samplecatalog.Start(context.Background(), samplecatalog.Options{Dir: filepath.Join(dir, "samples")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { samples.Close() })
	store, err := state.Open(filepath.Join(dir, "hearth.db"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	driver, err := rt.New(context.Background(), rt.Config{
		Address: d.Socket, StateDir: filepath.Join(dir, "runtime"), DataRoot: filepath.Join(dir, "apps"), LogDriver: self,
		Network: network.Config{Prefix: "hag", Pool: netip.MustParsePrefix("10.237.0.0/20"), Upstreams: []string{"127.0.0.1:1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	src, env, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Config{
		Store: store, Runtime: driver, Catalogs: catalog.NewManager(catalog.Config{}),
		Sources:  []catalog.Source{src, samples.Source},
		BuiltIn:  map[string][]byte{src.ID: env, samples.Source.ID: samples.Envelope},
		DataRoot: filepath.Join(dir, "apps"), HealthTimeout: 20 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		apps, _ := a.Apps(context.Background())
		for _, app := range apps {
			if op, err := a.Uninstall(context.Background(), app.ID, false); err == nil {
				waitOp(t, a, op.ID)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		driver.Close()
		store.Close()
	})
	select {
	case <-a.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("agent not ready")
	}
	return a
}

func waitOp(t *testing.T, a *agent.Agent, id string) api.Operation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ch, err := a.WatchOperation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for p := range ch {
		if p.Done {
			break
		}
	}
	op, err := a.Operation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func TestInstallUpdateRollbackUninstall(t *testing.T) {
	a := runAgent(t)
	ctx := context.Background()
	op, err := a.Install(ctx, api.InstallRequest{App: "hello", Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if op = waitOp(t, a, op.ID); op.State != "done" {
		t.Fatalf("install: %+v", op)
	}
	app, err := a.App(ctx, "hello")
	if err != nil || app.State != "healthy" {
		t.Fatalf("after install: %+v %v", app, err)
	}
	if _, err := a.Install(ctx, api.InstallRequest{App: "hello"}); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("second install: got %v, want ErrInvalid", err)
	}
	op, err = a.Update(ctx, "hello", "2.0.0-rc.1")
	if err != nil {
		t.Fatal(err)
	}
	if op = waitOp(t, a, op.ID); op.State != "rolledback" {
		t.Fatalf("broken update: got %+v, want rolledback", op)
	}
	app, _ = a.App(ctx, "hello")
	if app.Version != "1.0.0" || app.State != "healthy" {
		t.Fatalf("after the broken update: %s %s", app.Version, app.State)
	}
	op, _ = a.Update(ctx, "hello", "")
	if op = waitOp(t, a, op.ID); op.State != "done" {
		t.Fatalf("update: %+v", op)
	}
	op, _ = a.Rollback(ctx, "hello")
	if op = waitOp(t, a, op.ID); op.State != "done" {
		t.Fatalf("rollback: %+v", op)
	}
	app, _ = a.App(ctx, "hello")
	if app.Version != "1.0.0" {
		t.Fatalf("after rollback: %s", app.Version)
	}
	op, _ = a.Uninstall(ctx, "hello", false)
	if op = waitOp(t, a, op.ID); op.State != "done" {
		t.Fatalf("uninstall: %+v", op)
	}
	if _, err := a.App(ctx, "hello"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("after uninstall: %v", err)
	}
}
