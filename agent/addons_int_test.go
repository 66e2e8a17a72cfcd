package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hearthbox/hearth/agent"
	"github.com/hearthbox/hearth/agent/addons"
	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/catalog"
	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/internal/samplecatalog"
	"github.com/hearthbox/hearth/internal/testenv"
	rt "github.com/hearthbox/hearth/runtime"
	"github.com/hearthbox/hearth/runtime/network"
)

// addonBox is an agent with addon servers, a private containerd and the
// sample images.
type addonBox struct {
	a        *agent.Agent
	addons   *addons.Manager
	registry string
	netns    string // the runtime's folder of container network namespaces
	pgSocket string // PostgreSQL's socket folder
	pgPort   uint16
}

func runAddonAgent(t *testing.T) *addonBox {
	t.Helper()
	for _, f := range []string{"/usr/lib/postgresql/15/bin/postgres", "/usr/bin/redis-server"} {
		if _, err := os.Stat(f); err != nil {
			testenv.Unavailable(t, f+" not found: run 'make deps-test'")
		}
	}
	d := testenv.StartContainerd(t)
	dir := t.TempDir()
	// The servers' system users must get through to <dir>/addons.
	for p := dir; p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o711); err != nil {
			t.Fatal(err)
		}
	}
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
		Network: network.Config{Prefix: "had", Pool: netip.MustParsePrefix("10.238.0.0/20"), Upstreams: []string{"127.0.0.1:1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	pgPort := freeTCPPort(t)
	mgr, err := addons.NewManager(addons.ManagerConfig{
		Dir:        filepath.Join(dir, "addons"),
		PostgreSQL: addons.PostgresConfig{Port: pgPort},
		Redis:      addons.RedisConfig{Port: freeTCPPort(t)},
		MySQL:      addons.MariaDBConfig{Port: freeTCPPort(t)},
		Sendmail:   addons.SendmailConfig{Port: freeTCPPort(t)},
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
		DataRoot: filepath.Join(dir, "apps"), HealthTimeout: 30 * time.Second,
		Resync: time.Second, Addons: mgr,
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
		if err := mgr.Close(context.Background()); err != nil {
			t.Error(err)
		}
		driver.Close()
		store.Close()
	})
	select {
	case <-a.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("agent not ready")
	}
	return &addonBox{
		a: a, addons: mgr, registry: samples.RegistryHost, netns: filepath.Join(dir, "runtime", "network", "netns"),
		pgSocket: filepath.Join(dir, "addons", "postgresql", "run"), pgPort: pgPort,
	}
}

func freeTCPPort(t *testing.T) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

// addonManifest is the sample web app as app id, asking for addons.
func (b *addonBox) addonManifest(id, addonsJSON string) json.RawMessage {
	return json.RawMessage(`{
  "manifestVersion": 1, "id": "` + id + `", "title": "Addons sample", "version": "1.0.0",
  "tagline": "The sample web app with addons", "icon": "icon.svg", "category": "other",
  "services": {"web": {
    "image": {"ref": "` + b.registry + `/samples/web:1.0", "platforms": {"linux/` + goarch() + `": ""}},
    "environment": {"POSTGRESQL_PASSWORD": "the manifest cannot set this"},
    "healthCheck": {"http": {"path": "/healthz", "port": 8080}, "interval": "1s", "timeout": "1s", "startPeriod": "15s", "retries": 2},
    "httpPort": 8080}},
  "addons": ` + addonsJSON + `,
  "resources": {"memoryMin": "16Mi", "memoryLimit": "64Mi"}
}`)
}

// install installs an app from its manifest and returns what its web
// container sees in its environment, and its network namespace.
func (b *addonBox) install(t *testing.T, id, addonsJSON string) (env map[string]string, netnsPath string) {
	t.Helper()
	ctx := context.Background()
	op, err := b.a.Install(ctx, api.InstallRequest{App: id, Manifest: b.addonManifest(id, addonsJSON)})
	if err != nil {
		t.Fatal(err)
	}
	if op = waitOp(t, b.a, op.ID); op.State != "done" {
		t.Fatalf("install %s: %+v", id, op)
	}
	return b.env(t, id), filepath.Join(b.netns, id+"-web")
}

func (b *addonBox) env(t *testing.T, id string) map[string]string {
	t.Helper()
	app, err := b.a.App(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + app.Services[0].IP + ":8080/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct {
		Env map[string]string `json:"env"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	return info.Env
}

// dialIn dials from inside the network namespace at path: as the app's
// container would.
func dialIn(path string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		h, err := ns.GetNS(path)
		if err != nil {
			return nil, err
		}
		defer h.Close()
		var c net.Conn
		err = h.Do(func(ns.NetNS) error {
			d := net.Dialer{Timeout: 3 * time.Second}
			var err error
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
}

// pgIn logs in with POSTGRESQL_URL from the namespace. A refused
// connection is tried again for a while: the server starts listening on a
// new network's gateway only once its bridge exists, after the app's first
// container is attached (docs/addons.md, Limits), as a real app retries.
func pgIn(ctx context.Context, path, link string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(link + "?sslmode=disable&connect_timeout=5")
	if err != nil {
		return nil, err
	}
	cfg.DialFunc = dialIn(path)
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) {
			return c, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// redisIn logs in with REDIS_URL from the namespace and runs one command.
func redisIn(ctx context.Context, path, link string, cmd ...string) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", err
	}
	c, err := dialIn(path)(ctx, "tcp", u.Host)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	pw, _ := u.User.Password()
	var reply string
	for _, args := range [][]string{{"AUTH", u.User.Username(), pw}, cmd} {
		req := "*" + itoa(len(args)) + "\r\n"
		for _, a := range args {
			req += "$" + itoa(len(a)) + "\r\n" + a + "\r\n"
		}
		if _, err := c.Write([]byte(req)); err != nil {
			return "", err
		}
		buf := make([]byte, 512)
		n, err := c.Read(buf)
		if err != nil {
			return "", err
		}
		reply = string(buf[:n])
		if strings.HasPrefix(reply, "-") {
			return "", errors.New(strings.TrimSpace(reply))
		}
	}
	return reply, nil
}

// TestAddonsEndToEnd installs apps asking for postgresql and redis on a
// real containerd and proves, from inside their containers' network
// namespaces: the credentials the app's environment holds work, data
// survives a restart of the app, another app can neither reach nor log in
// to the first one's database, and uninstall drops it.
func TestAddonsEndToEnd(t *testing.T) {
	b := runAddonAgent(t)
	ctx := context.Background()
	env, nsA := b.install(t, "notes", `{"postgresql": {}, "redis": {}}`)
	for _, k := range []string{"POSTGRESQL_URL", "POSTGRESQL_HOST", "POSTGRESQL_PORT", "POSTGRESQL_USERNAME", "POSTGRESQL_PASSWORD", "POSTGRESQL_DATABASE", "REDIS_URL", "REDIS_PASSWORD", "REDIS_KEY_PREFIX"} {
		if env[k] == "" {
			t.Errorf("the app's environment has no %s", k)
		}
	}
	if env["POSTGRESQL_PASSWORD"] == "the manifest cannot set this" {
		t.Errorf("the manifest's environment shadows the addon's password")
	}

	t.Run("the app writes, restarts and reads back", func(t *testing.T) {
		c, err := pgIn(ctx, nsA, env["POSTGRESQL_URL"])
		if err != nil {
			t.Fatalf("postgresql from the app's network: %v", err)
		}
		if _, err := c.Exec(ctx, "CREATE TABLE notes (note text); INSERT INTO notes VALUES ('kept')"); err != nil {
			t.Fatal(err)
		}
		c.Close(ctx)
		if _, err := redisIn(ctx, nsA, env["REDIS_URL"], "SET", env["REDIS_KEY_PREFIX"]+"k", "v"); err != nil {
			t.Fatalf("redis from the app's network: %v", err)
		}
		op, err := b.a.Restart(ctx, "notes")
		if err != nil {
			t.Fatal(err)
		}
		if op = waitOp(t, b.a, op.ID); op.State != "done" {
			t.Fatalf("restart: %+v", op)
		}
		env2 := b.env(t, "notes")
		c, err = pgIn(ctx, nsA, env2["POSTGRESQL_URL"])
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		var note string
		if err := c.QueryRow(ctx, "SELECT note FROM notes").Scan(&note); err != nil || note != "kept" {
			t.Errorf("after the restart: got %q, %v, want kept", note, err)
		}
		if got, err := redisIn(ctx, nsA, env2["REDIS_URL"], "GET", env2["REDIS_KEY_PREFIX"]+"k"); err != nil || !strings.Contains(got, "v") {
			t.Errorf("redis after the restart: got %q, %v", got, err)
		}
	})

	envB, nsB := b.install(t, "other", `{"postgresql": {}}`)
	t.Run("another app cannot reach or log in to it", func(t *testing.T) {
		// Wrong user: B's credentials on A's database, through B's gateway.
		bOnA := strings.TrimSuffix(envB["POSTGRESQL_URL"], "/"+envB["POSTGRESQL_DATABASE"]) + "/" + env["POSTGRESQL_DATABASE"]
		var pe *pgconn.PgError
		if c, err := pgIn(ctx, nsB, bOnA); err == nil {
			c.Close(ctx)
			t.Errorf("B's user logged in to A's database")
		} else if !errors.As(err, &pe) {
			t.Errorf("B's user on A's database: got %v, want a refused login", err)
		}
		// Right password, wrong source: A's URL, pointed at B's gateway
		// (the one B can reach), from B's network.
		aViaB := strings.Replace(env["POSTGRESQL_URL"], "@"+env["POSTGRESQL_HOST"]+":", "@"+envB["POSTGRESQL_HOST"]+":", 1)
		if c, err := pgIn(ctx, nsB, aViaB); err == nil {
			c.Close(ctx)
			t.Errorf("A's credentials logged in from B's network")
		} else if !errors.As(err, &pe) {
			t.Errorf("A's credentials from B's network: got %v, want a refused login", err)
		}
		// A's gateway is not reachable from B's network at all.
		if c, err := dialIn(nsB)(ctx, "tcp", net.JoinHostPort(env["POSTGRESQL_HOST"], env["POSTGRESQL_PORT"])); err == nil {
			c.Close()
			t.Errorf("B reached A's gateway")
		}
		// B did not ask for redis: its gateway's redis port is closed.
		if c, err := dialIn(nsB)(ctx, "tcp", net.JoinHostPort(envB["POSTGRESQL_HOST"], strings.TrimPrefix(env["REDIS_PORT"], ""))); err == nil {
			c.Close()
			t.Errorf("B reached redis without asking for it")
		}
	})

	t.Run("dump and restore give identical rows", func(t *testing.T) {
		dir := t.TempDir()
		if err := b.a.DumpAddons(ctx, "notes", dir); err != nil {
			t.Fatal(err)
		}
		c, err := pgIn(ctx, nsA, env["POSTGRESQL_URL"])
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DELETE FROM notes"); err != nil {
			t.Fatal(err)
		}
		if _, err := redisIn(ctx, nsA, env["REDIS_URL"], "DEL", env["REDIS_KEY_PREFIX"]+"k"); err != nil {
			t.Fatal(err)
		}
		if err := b.a.RestoreAddons(ctx, "notes", dir); err != nil {
			t.Fatal(err)
		}
		c2, err := pgIn(ctx, nsA, env["POSTGRESQL_URL"])
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close(ctx)
		var note string
		if err := c2.QueryRow(ctx, "SELECT note FROM notes").Scan(&note); err != nil || note != "kept" {
			t.Errorf("after restore: got %q, %v, want kept", note, err)
		}
		if got, err := redisIn(ctx, nsA, env["REDIS_URL"], "GET", env["REDIS_KEY_PREFIX"]+"k"); err != nil || !strings.Contains(got, "v") {
			t.Errorf("redis after restore: got %q, %v", got, err)
		}
	})

	t.Run("uninstall drops the database and user", func(t *testing.T) {
		op, err := b.a.Uninstall(ctx, "notes", false)
		if err != nil {
			t.Fatal(err)
		}
		if op = waitOp(t, b.a, op.ID); op.State != "done" {
			t.Fatalf("uninstall: %+v", op)
		}
		s, _ := b.addons.Server(addons.KindPostgreSQL)
		u, d, err := s.(*addons.Postgres).Exists(ctx, "notes")
		if err != nil || u || d {
			t.Errorf("after uninstall: got user %v, database %v, %v, want neither", u, d, err)
		}
	})
}

func goarch() string { return runtime.GOARCH }

func itoa(n int) string { return strconv.Itoa(n) }

// TestAddonsCrashWhileProvisioning is acceptance 4: what a crash in the
// middle of the addons step leaves (the user made, its database not) is
// finished by the resumed install, and a failed install (here: its image
// cannot be pulled, after the addons step) is undone without a half-made
// database or user left.
func TestAddonsCrashWhileProvisioning(t *testing.T) {
	b := runAddonAgent(t)
	ctx := context.Background()
	b.install(t, "keeper", `{"postgresql": {}}`) // keeps the server running
	s, _ := b.addons.Server(addons.KindPostgreSQL)
	pg := s.(*addons.Postgres)

	t.Run("a half-made user is finished", func(t *testing.T) {
		// The crash: Ensure made the role, then hearthd died.
		psql := exec.Command("/usr/lib/postgresql/15/bin/psql", "-X", "-h", b.pgSocket, "-p", strconv.Itoa(int(b.pgPort)),
			"-U", "postgres", "-d", "postgres", "-c", "CREATE ROLE app_halfway LOGIN")
		if out, err := psql.CombinedOutput(); err != nil {
			t.Fatalf("make the half-made role: %v: %s", err, out)
		}
		if u, d, err := pg.Exists(ctx, "halfway"); err != nil || !u || d {
			t.Fatalf("before: got user %v, database %v, %v, want a user alone", u, d, err)
		}
		env, ns := b.install(t, "halfway", `{"postgresql": {}}`)
		c, err := pgIn(ctx, ns, env["POSTGRESQL_URL"])
		if err != nil {
			t.Fatalf("login after the resumed install: %v", err)
		}
		c.Close(ctx)
	})
	t.Run("a failed install leaves no database or user", func(t *testing.T) {
		raw := strings.Replace(string(b.addonManifest("broken", `{"postgresql": {}}`)), "/samples/web:1.0", "/samples/missing:1.0", 1)
		op, err := b.a.Install(ctx, api.InstallRequest{App: "broken", Manifest: json.RawMessage(raw)})
		if err != nil {
			t.Fatal(err)
		}
		if op = waitOp(t, b.a, op.ID); op.State != "failed" {
			t.Fatalf("install with a missing image: got %+v, want failed", op)
		}
		if op.Steps[1].Name != "addons" || op.Steps[1].State != "done" {
			t.Fatalf("the addons step: got %+v, want done before the failure", op.Steps[1])
		}
		u, d, err := pg.Exists(ctx, "broken")
		if err != nil || u || d {
			t.Errorf("after the failed install: got user %v, database %v, %v, want neither", u, d, err)
		}
	})
}
