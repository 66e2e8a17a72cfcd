package agent_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
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
func runAgent(t *testing.T, tune ...func(*agent.Config)) (*agent.Agent, *rt.Client) {
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
	cfg := agent.Config{
		Store: store, Runtime: driver, Catalogs: catalog.NewManager(catalog.Config{}),
		Sources:  []catalog.Source{src, samples.Source},
		BuiltIn:  map[string][]byte{src.ID: env, samples.Source.ID: samples.Envelope},
		DataRoot: filepath.Join(dir, "apps"), HealthTimeout: 20 * time.Second,
		Resync: time.Second,
	}
	for _, f := range tune {
		f(&cfg)
	}
	a, err := agent.New(cfg)
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
	return a, driver
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
	a, _ := runAgent(t)
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

func TestAdmissionRefusesWhatTheBoxCannotHold(t *testing.T) {
	cases := []struct {
		name string
		adm  agent.Admission
		says string
	}{
		{"memory", agent.Admission{MemoryTotal: 8 << 20}, "needs 16Mi of memory"},
		{"disk", agent.Admission{MinFreeDisk: 1 << 30, FreeDisk: func(string) (int64, error) { return 100 << 20, nil }}, "of disk is free"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, _ := runAgent(t, func(cfg *agent.Config) { cfg.Admission = c.adm })
			_, err := a.Install(context.Background(), api.InstallRequest{App: "hello"})
			if !errors.Is(err, api.ErrRefused) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v, want ErrRefused saying %q", err, c.says)
			}
			if apps, _ := a.Apps(context.Background()); len(apps) != 0 {
				t.Errorf("got apps %v after a refused install, want none", apps)
			}
		})
	}
}

func TestLoopRestartsCrashedAndRemovesOrphans(t *testing.T) {
	a, driver := runAgent(t)
	ctx := context.Background()
	op, err := a.Install(ctx, api.InstallRequest{App: "hello", Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if op = waitOp(t, a, op.ID); op.State != "done" {
		t.Fatalf("install: %+v", op)
	}
	before, err := driver.Inspect(ctx, "hello-web")
	if err != nil {
		t.Fatal(err)
	}
	// The app dies: the loop starts it again.
	app, _ := a.App(ctx, "hello")
	resp, err := http.Get("http://" + app.Services[0].IP + ":8080/exit?code=3")
	if err == nil {
		resp.Body.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := driver.Inspect(ctx, "hello-web")
		if err == nil && info.State == rt.StateRunning && info.PID != before.PID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not restarted: %+v %v", info, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A container labelled as Hearth's that no app owns goes.
	img := app.Services[0].Image
	orphan := rt.ContainerSpec{ID: "ghost-web", Group: "ghost", Image: img, DataDir: filepath.Join(dataRootOf(t, a), "ghost")}
	if _, _, err := driver.Ensure(ctx, orphan); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		if _, err := driver.Inspect(ctx, "ghost-web"); errors.Is(err, rt.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the orphan container was not removed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func dataRootOf(t *testing.T, a *agent.Agent) string {
	t.Helper()
	st, err := a.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.DataRoot
}
