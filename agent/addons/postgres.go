package addons

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// PostgresConfig configures the PostgreSQL server.
type PostgresConfig struct {
	// Dir holds the cluster (Dir/data), the socket (Dir/run) and apps.json;
	// <state>/addons/postgresql. Its parents must let User through.
	Dir string
	// BinDir holds initdb, postgres, psql, pg_dump and pg_restore; default
	// /usr/lib/postgresql/15/bin (Debian 12).
	BinDir string
	// Port is the TCP port; default 5432.
	Port uint16
	// Listen are the addresses besides 127.0.0.1 to listen on: the
	// gateways of the networks of apps that use the addon.
	Listen []netip.Addr
	// User is the system account the server runs as; default postgres.
	User string
	// SharedBuffers is PostgreSQL's shared_buffers; default 64MB (a 4 GB Pi).
	SharedBuffers string
	// MaxConnections is max_connections; default 50.
	MaxConnections int
	// Output receives the server's log; nil discards it.
	Output io.Writer
	// Logger receives Hearth's own logs; nil discards them.
	Logger *slog.Logger
}

// Postgres is the PostgreSQL server of the postgresql addon and its
// Provisioner: each app gets a database and a user of the name
// UserName(app), the user owns the database, and pg_hba.conf lets it in
// only to its database, from its subnet, with scram-sha-256.
type Postgres struct {
	cfg  PostgresConfig
	apps *appSubnets
	d    *daemon
	// opMu serialises Start, Stop and SetListen (the agent's loop and
	// its operations may call them at once).
	opMu sync.Mutex
	// mu guards listen (the addresses of the running server).
	mu     sync.Mutex
	listen []netip.Addr
}

var _ Provisioner = (*Postgres)(nil)

// NewPostgres validates cfg. It starts nothing.
func NewPostgres(cfg PostgresConfig) (*Postgres, error) {
	if !filepath.IsAbs(cfg.Dir) {
		return nil, fmt.Errorf("postgresql: Dir %q: must be an absolute path: %w", cfg.Dir, ErrInvalid)
	}
	if cfg.BinDir == "" {
		cfg.BinDir = "/usr/lib/postgresql/15/bin"
	}
	if cfg.Port == 0 {
		cfg.Port = 5432
	}
	if cfg.User == "" {
		cfg.User = "postgres"
	}
	if cfg.SharedBuffers == "" {
		cfg.SharedBuffers = "64MB"
	}
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = 50
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	listen, err := listenAddrs(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("postgresql: %w", err)
	}
	p := &Postgres{cfg: cfg, apps: newAppSubnets(cfg.Dir), listen: listen}
	p.d = newDaemon(daemonConfig{
		name: "postgresql", user: cfg.User, stop: syscall.SIGINT, // fast shutdown
		ready:  func(ctx context.Context) error { _, err := p.query(ctx, "SELECT 1"); return err },
		output: cfg.Output, log: cfg.Logger.With("component", "addons"),
	})
	return p, nil
}

// listenAddrs is 127.0.0.1 and the given IPv4 addresses, sorted, once each.
func listenAddrs(in []netip.Addr) ([]netip.Addr, error) {
	out := []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}
	for _, a := range in {
		if !a.Is4() {
			return nil, fmt.Errorf("listen address %s: must be IPv4: %w", a, ErrInvalid)
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return slices.Compact(out), nil
}

func (p *Postgres) dataDir() string { return filepath.Join(p.cfg.Dir, "data") }
func (p *Postgres) runDir() string  { return filepath.Join(p.cfg.Dir, "run") }
func (p *Postgres) bin(n string) string {
	return filepath.Join(p.cfg.BinDir, n)
}

// Start initialises the cluster on first use, writes pg_hba.conf, starts
// the server and waits until it answers.
func (p *Postgres) Start(ctx context.Context) error {
	p.opMu.Lock()
	defer p.opMu.Unlock()
	return p.start(ctx)
}

func (p *Postgres) start(ctx context.Context) error {
	if p.d.running() {
		return p.d.waitReady(ctx)
	}
	if err := prepareDir(p.cfg.Dir, p.cfg.User); err != nil {
		return fmt.Errorf("postgresql: %w", err)
	}
	if err := prepareDir(p.runDir(), p.cfg.User); err != nil {
		return fmt.Errorf("postgresql: %w", err)
	}
	if !initialized(p.cfg.Dir) {
		if err := p.initdb(ctx); err != nil {
			return err
		}
		if err := markInitialized(p.cfg.Dir); err != nil {
			return fmt.Errorf("postgresql: %w", err)
		}
	}
	apps, err := p.apps.load()
	if err != nil {
		return fmt.Errorf("postgresql: %w", err)
	}
	if err := p.writeHBA(apps); err != nil {
		return err
	}
	p.mu.Lock()
	p.d.cfg.argv = p.argv()
	p.mu.Unlock()
	if err := p.d.start(ctx); err != nil {
		return fmt.Errorf("postgresql: %w", err)
	}
	return nil
}

// initdb makes a new cluster; a half-made one (a crash during initdb) is
// removed first: it holds no data yet.
func (p *Postgres) initdb(ctx context.Context) error {
	if err := os.RemoveAll(p.dataDir()); err != nil {
		return fmt.Errorf("postgresql: %w", err)
	}
	if err := prepareDir(p.dataDir(), p.cfg.User); err != nil {
		return fmt.Errorf("postgresql: %w", err)
	}
	cred, err := lookupCredential(p.cfg.User)
	if err != nil {
		return err
	}
	cmd := cmdAs(ctx, cred, p.bin("initdb"), "-D", p.dataDir(), "-U", "postgres", "-E", "UTF8", "--locale=C",
		"--auth-local=trust", "--auth-host=scram-sha-256")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("postgresql: initdb: %w: %s", err, tail(out))
	}
	// Every setting is on the command line (argv): an empty file keeps a
	// reload from complaining about the defaults initdb wrote.
	conf := []byte("# Hearth passes every setting on the server's command line.\n")
	return writeOwned(filepath.Join(p.dataDir(), "postgresql.conf"), conf, p.cfg.User, 0o600)
}

// argv is the server's command line: every setting Hearth cares about is
// on it, so the cluster's own files keep their defaults.
func (p *Postgres) argv() []string {
	addrs := make([]string, len(p.listen))
	for i, a := range p.listen {
		addrs[i] = a.String()
	}
	set := func(k, v string) []string { return []string{"-c", k + "=" + v} }
	argv := []string{p.bin("postgres"), "-D", p.dataDir()}
	for _, kv := range [][2]string{
		{"listen_addresses", strings.Join(addrs, ",")},
		{"port", strconv.Itoa(int(p.cfg.Port))},
		{"unix_socket_directories", p.runDir()},
		{"unix_socket_permissions", "0700"},
		{"hba_file", filepath.Join(p.dataDir(), "pg_hba.conf")},
		{"shared_buffers", p.cfg.SharedBuffers},
		{"max_connections", strconv.Itoa(p.cfg.MaxConnections)},
		{"work_mem", "4MB"},
		{"maintenance_work_mem", "32MB"},
		{"effective_cache_size", "256MB"},
		{"password_encryption", "scram-sha-256"},
		{"logging_collector", "off"},
	} {
		argv = append(argv, set(kv[0], kv[1])...)
	}
	return argv
}

// Stop shuts the server down (fast shutdown: clients are disconnected).
func (p *Postgres) Stop(ctx context.Context) error {
	p.opMu.Lock()
	defer p.opMu.Unlock()
	return p.d.stop(ctx)
}

// Running says whether the server was started and not stopped.
func (p *Postgres) Running() bool { return p.d.running() }

// SetListen changes the addresses besides 127.0.0.1 the server listens
// on; a running server is restarted when they change.
func (p *Postgres) SetListen(ctx context.Context, addrs []netip.Addr) error {
	p.opMu.Lock()
	defer p.opMu.Unlock()
	listen, err := listenAddrs(addrs)
	if err != nil {
		return fmt.Errorf("postgresql: %w", err)
	}
	p.mu.Lock()
	same := slices.Equal(listen, p.listen)
	p.listen = listen
	p.mu.Unlock()
	if same || !p.d.running() {
		return nil
	}
	if err := p.d.stop(ctx); err != nil {
		return err
	}
	return p.start(ctx)
}

// writeHBA writes pg_hba.conf: the superuser through the socket (a 0700
// folder only root and postgres enter), each app to its own database from
// its subnet. Anything else is refused.
func (p *Postgres) writeHBA(apps map[string]netip.Prefix) error {
	var b bytes.Buffer
	b.WriteString("# Written by Hearth from apps.json; changes are lost.\n")
	b.WriteString("local all postgres trust\n")
	for _, app := range sortedApps(apps) {
		u := UserName(app)
		fmt.Fprintf(&b, "host %s %s %s scram-sha-256\n", u, u, apps[app])
	}
	if err := writeOwned(filepath.Join(p.dataDir(), "pg_hba.conf"), b.Bytes(), p.cfg.User, 0o600); err != nil {
		return fmt.Errorf("postgresql: %w", err)
	}
	return nil
}

// psql runs SQL from stdin as the superuser on database db.
func (p *Postgres) psql(ctx context.Context, db, sql string, out io.Writer) error {
	if out == nil {
		out = io.Discard
	}
	err := runTool(ctx, strings.NewReader(sql), out, p.bin("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", p.runDir(), "-p", strconv.Itoa(int(p.cfg.Port)), "-U", "postgres", "-d", db)
	if err != nil {
		return fmt.Errorf("postgresql: %w", err)
	}
	return nil
}

func (p *Postgres) query(ctx context.Context, sql string) (string, error) {
	var out bytes.Buffer
	err := p.psql(ctx, "postgres", sql, &out)
	return strings.TrimSpace(out.String()), err
}

// Ensure creates the app's user and database, or sets the password of the
// user that exists, then lets the user in from subnet (see Provisioner).
func (p *Postgres) Ensure(ctx context.Context, app string, subnet netip.Prefix, password string) error {
	if err := checkArgs(app, subnet, password); err != nil {
		return fmt.Errorf("postgresql: %w", err)
	}
	if !p.d.running() {
		return fmt.Errorf("postgresql: %w", ErrNotRunning)
	}
	u := UserName(app)
	// The names and password are checked above: [a-z0-9_] and [A-Za-z0-9].
	sql := fmt.Sprintf(`\set u '%s'
\set pw '%s'
SELECT format('CREATE ROLE %%I LOGIN', :'u') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
SELECT format('ALTER ROLE %%I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %%L', :'u', :'pw') \gexec
SELECT format('CREATE DATABASE %%I OWNER %%I', :'u', :'u') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'u') \gexec
SELECT format('ALTER DATABASE %%I OWNER TO %%I', :'u', :'u') \gexec
SELECT format('REVOKE ALL ON DATABASE %%I FROM PUBLIC', :'u') \gexec
`, u, password)
	if err := p.psql(ctx, "postgres", sql, nil); err != nil {
		return fmt.Errorf("ensure %s: %w", app, err)
	}
	return p.allow(ctx, func(m map[string]netip.Prefix) { m[app] = subnet })
}

// allow changes apps.json, rewrites pg_hba.conf and has the server read it.
func (p *Postgres) allow(ctx context.Context, fn func(map[string]netip.Prefix)) error {
	apps, err := p.apps.update(fn)
	if err != nil {
		return fmt.Errorf("postgresql: %w", err)
	}
	if err := p.writeHBA(apps); err != nil {
		return err
	}
	_, err = p.query(ctx, "SELECT pg_reload_conf()")
	return err
}

// Drop removes the app's database (closing its connections), its user and
// its line of pg_hba.conf.
func (p *Postgres) Drop(ctx context.Context, app string) error {
	if err := checkApp(app); err != nil {
		return fmt.Errorf("postgresql: %w", err)
	}
	if !p.d.running() {
		return fmt.Errorf("postgresql: %w", ErrNotRunning)
	}
	if err := p.allow(ctx, func(m map[string]netip.Prefix) { delete(m, app) }); err != nil {
		return err
	}
	sql := fmt.Sprintf(`\set u '%s'
SELECT format('DROP DATABASE IF EXISTS %%I WITH (FORCE)', :'u') \gexec
SELECT format('DROP ROLE IF EXISTS %%I', :'u') \gexec
`, UserName(app))
	if err := p.psql(ctx, "postgres", sql, nil); err != nil {
		return fmt.Errorf("drop %s: %w", app, err)
	}
	return nil
}

// Exists says whether the app's user or database exists.
func (p *Postgres) Exists(ctx context.Context, app string) (user, database bool, err error) {
	if err := checkApp(app); err != nil {
		return false, false, fmt.Errorf("postgresql: %w", err)
	}
	u := UserName(app)
	out, err := p.query(ctx, fmt.Sprintf(`SELECT (SELECT count(*) FROM pg_roles WHERE rolname = '%[1]s') || ',' || (SELECT count(*) FROM pg_database WHERE datname = '%[1]s')`, u))
	if err != nil {
		return false, false, err
	}
	return out[0] == '1', strings.HasSuffix(out, ",1"), nil
}

// Dump writes the app's database in pg_dump's custom format (one
// snapshot: consistent), without owners and grants.
func (p *Postgres) Dump(ctx context.Context, app string, w io.Writer) error {
	if err := checkApp(app); err != nil {
		return fmt.Errorf("postgresql: %w", err)
	}
	err := runTool(ctx, nil, w, p.bin("pg_dump"), "-h", p.runDir(), "-p", strconv.Itoa(int(p.cfg.Port)), "-U", "postgres",
		"--format=custom", "--no-owner", "--no-acl", "-d", UserName(app))
	if err != nil {
		return fmt.Errorf("postgresql: dump %s: %w", app, err)
	}
	return nil
}

// Restore makes the app's database anew and loads a Dump into it as the
// app's user, so that the app owns what it gets back.
func (p *Postgres) Restore(ctx context.Context, app string, r io.Reader) error {
	if err := checkApp(app); err != nil {
		return fmt.Errorf("postgresql: %w", err)
	}
	u := UserName(app)
	if ok, _, err := p.Exists(ctx, app); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("postgresql: restore %s: the app has no user (Ensure first): %w", app, ErrInvalid)
	}
	sql := fmt.Sprintf(`\set u '%s'
SELECT format('DROP DATABASE IF EXISTS %%I WITH (FORCE)', :'u') \gexec
SELECT format('CREATE DATABASE %%I OWNER %%I', :'u', :'u') \gexec
SELECT format('REVOKE ALL ON DATABASE %%I FROM PUBLIC', :'u') \gexec
`, u)
	if err := p.psql(ctx, "postgres", sql, nil); err != nil {
		return fmt.Errorf("restore %s: %w", app, err)
	}
	err := runTool(ctx, r, io.Discard, p.bin("pg_restore"), "-h", p.runDir(), "-p", strconv.Itoa(int(p.cfg.Port)), "-U", "postgres",
		"--no-owner", "--no-acl", "--role="+u, "--exit-on-error", "-d", u)
	if err != nil {
		return fmt.Errorf("postgresql: restore %s: %w", app, err)
	}
	return nil
}

// Env gives POSTGRESQL_URL, _HOST, _PORT, _USERNAME, _PASSWORD, _DATABASE.
func (p *Postgres) Env(app string, c Conn) map[string]string {
	u := UserName(app)
	host, port := c.Host.String(), strconv.Itoa(int(p.cfg.Port))
	link := url.URL{Scheme: "postgres", User: url.UserPassword(u, c.Password), Host: netip.AddrPortFrom(c.Host, p.cfg.Port).String(), Path: "/" + u}
	return map[string]string{
		"POSTGRESQL_URL":      link.String(),
		"POSTGRESQL_HOST":     host,
		"POSTGRESQL_PORT":     port,
		"POSTGRESQL_USERNAME": u,
		"POSTGRESQL_PASSWORD": c.Password,
		"POSTGRESQL_DATABASE": u,
	}
}

// Port is the server's TCP port.
func (p *Postgres) Port() uint16 { return p.cfg.Port }

func tail(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 2048 {
		b = b[len(b)-2048:]
	}
	return string(b)
}
