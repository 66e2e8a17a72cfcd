package addons

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
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

// MariaDBConfig configures the MariaDB server of the mysql addon.
type MariaDBConfig struct {
	// Dir holds the data (Dir/data) and the socket (Dir/run);
	// <state>/addons/mysql. Its parents must let User through.
	Dir string
	// Server, InstallDB, Client and DumpTool are mariadbd,
	// mariadb-install-db, mariadb and mariadb-dump; defaults are Debian 12's.
	Server, InstallDB, Client, DumpTool string
	// Port is the TCP port; default 3306.
	Port uint16
	// Listen are the addresses besides 127.0.0.1 to listen on.
	Listen []netip.Addr
	// User is the system account the server drops to; default mysql.
	User string
	// BufferPool is innodb_buffer_pool_size; default 32M.
	BufferPool string
	// Output receives the server's log; nil discards it.
	Output io.Writer
	// Logger receives Hearth's own logs; nil discards them.
	Logger *slog.Logger
}

// MariaDB is the server of the mysql addon and its Provisioner: each app
// gets a database and a user UserName(app)@'<its subnet>', with every
// privilege on its database and none elsewhere. root logs in only through
// the socket, as the system's root (unix_socket authentication).
type MariaDB struct {
	cfg MariaDBConfig
	d   *daemon
	// opMu serialises Start, Stop and SetListen (the agent's loop and
	// its operations may call them at once).
	opMu sync.Mutex
	// mu guards listen.
	mu     sync.Mutex
	listen []netip.Addr
}

var _ Provisioner = (*MariaDB)(nil)

// NewMariaDB validates cfg. It starts nothing.
func NewMariaDB(cfg MariaDBConfig) (*MariaDB, error) {
	if !filepath.IsAbs(cfg.Dir) {
		return nil, fmt.Errorf("mysql: Dir %q: must be an absolute path: %w", cfg.Dir, ErrInvalid)
	}
	for _, f := range []struct {
		v   *string
		def string
	}{
		{&cfg.Server, "/usr/sbin/mariadbd"}, {&cfg.InstallDB, "/usr/bin/mariadb-install-db"},
		{&cfg.Client, "/usr/bin/mariadb"}, {&cfg.DumpTool, "/usr/bin/mariadb-dump"},
		{&cfg.User, "mysql"}, {&cfg.BufferPool, "32M"},
	} {
		if *f.v == "" {
			*f.v = f.def
		}
	}
	if cfg.Port == 0 {
		cfg.Port = 3306
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	listen, err := listenAddrs(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	m := &MariaDB{cfg: cfg, listen: listen}
	m.d = newDaemon(daemonConfig{
		// mariadbd starts as root and drops to --user itself.
		name: "mysql", stop: syscall.SIGTERM,
		ready:  func(ctx context.Context) error { _, err := m.query(ctx, "SELECT 1"); return err },
		output: cfg.Output, log: cfg.Logger.With("component", "addons"),
	})
	return m, nil
}

func (m *MariaDB) dataDir() string { return filepath.Join(m.cfg.Dir, "data") }
func (m *MariaDB) runDir() string  { return filepath.Join(m.cfg.Dir, "run") }
func (m *MariaDB) sock() string    { return filepath.Join(m.runDir(), "mysqld.sock") }

// Start initialises the data folder on first use, starts the server and
// waits until it answers.
func (m *MariaDB) Start(ctx context.Context) error {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	return m.start(ctx)
}

func (m *MariaDB) start(ctx context.Context) error {
	if m.d.running() {
		return m.d.waitReady(ctx)
	}
	for _, d := range []string{m.cfg.Dir, m.runDir()} {
		if err := prepareDir(d, m.cfg.User); err != nil {
			return fmt.Errorf("mysql: %w", err)
		}
	}
	if !initialized(m.cfg.Dir) {
		if err := os.RemoveAll(m.dataDir()); err != nil {
			return fmt.Errorf("mysql: %w", err)
		}
		if err := prepareDir(m.dataDir(), m.cfg.User); err != nil {
			return fmt.Errorf("mysql: %w", err)
		}
		cmd := cmdAs(ctx, nil, m.cfg.InstallDB, "--no-defaults", "--user="+m.cfg.User, "--datadir="+m.dataDir(),
			"--auth-root-authentication-method=socket", "--skip-test-db")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("mysql: mariadb-install-db: %w: %s", err, tail(out))
		}
		if err := markInitialized(m.cfg.Dir); err != nil {
			return fmt.Errorf("mysql: %w", err)
		}
	}
	m.mu.Lock()
	m.d.cfg.argv = m.argv()
	m.mu.Unlock()
	if err := m.d.start(ctx); err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	return nil
}

func (m *MariaDB) argv() []string {
	addrs := make([]string, len(m.listen))
	for i, a := range m.listen {
		addrs[i] = a.String()
	}
	return []string{m.cfg.Server, "--no-defaults",
		"--user=" + m.cfg.User,
		"--datadir=" + m.dataDir(),
		"--socket=" + m.sock(),
		"--pid-file=" + filepath.Join(m.runDir(), "mysqld.pid"),
		"--port=" + strconv.Itoa(int(m.cfg.Port)),
		"--bind-address=" + strings.Join(addrs, ","),
		"--skip-name-resolve",
		"--innodb-buffer-pool-size=" + m.cfg.BufferPool,
		"--innodb-log-file-size=16M",
		"--max-connections=50",
		"--performance-schema=OFF",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_unicode_ci",
		"--local-infile=0",
	}
}

// Stop shuts the server down.
func (m *MariaDB) Stop(ctx context.Context) error {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	return m.d.stop(ctx)
}

// Running says whether the server was started and not stopped.
func (m *MariaDB) Running() bool { return m.d.running() }

// SetListen changes the addresses besides 127.0.0.1 the server listens
// on; a running server is restarted when they change.
func (m *MariaDB) SetListen(ctx context.Context, addrs []netip.Addr) error {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	listen, err := listenAddrs(addrs)
	if err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	m.mu.Lock()
	same := slices.Equal(listen, m.listen)
	m.listen = listen
	m.mu.Unlock()
	if same || !m.d.running() {
		return nil
	}
	if err := m.d.stop(ctx); err != nil {
		return err
	}
	return m.start(ctx)
}

// sql runs statements from stdin as root on database db ("" for none).
func (m *MariaDB) sql(ctx context.Context, db string, stdin io.Reader, out io.Writer) error {
	if out == nil {
		out = io.Discard
	}
	argv := []string{m.cfg.Client, "--no-defaults", "--socket=" + m.sock(), "--user=root", "--batch", "--skip-column-names"}
	if db != "" {
		argv = append(argv, "--database="+db)
	}
	if err := runTool(ctx, stdin, out, argv...); err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	return nil
}

func (m *MariaDB) query(ctx context.Context, q string) (string, error) {
	var out bytes.Buffer
	err := m.sql(ctx, "", strings.NewReader(q), &out)
	return strings.TrimSpace(out.String()), err
}

// hostOf is MariaDB's spelling of a subnet: 'address/netmask'.
func hostOf(subnet netip.Prefix) string {
	mask := net.CIDRMask(subnet.Bits(), 32)
	return subnet.Addr().String() + "/" + net.IP(mask).String()
}

// hosts lists the hosts the app's user exists for.
func (m *MariaDB) hosts(ctx context.Context, u string) ([]string, error) {
	out, err := m.query(ctx, fmt.Sprintf("SELECT Host FROM mysql.user WHERE User = '%s'", u))
	if err != nil || out == "" {
		return nil, err
	}
	return strings.Split(out, "\n"), nil
}

// Ensure creates the app's database and user (for its subnet), or sets
// the password of the user that exists; the user at any other host (an
// older subnet) is dropped.
func (m *MariaDB) Ensure(ctx context.Context, app string, subnet netip.Prefix, password string) error {
	if err := checkArgs(app, subnet, password); err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	if !m.d.running() {
		return fmt.Errorf("mysql: %w", ErrNotRunning)
	}
	u, host := UserName(app), hostOf(subnet)
	var b strings.Builder
	hosts, err := m.hosts(ctx, u)
	if err != nil {
		return fmt.Errorf("ensure %s: %w", app, err)
	}
	for _, h := range hosts {
		if h != host {
			fmt.Fprintf(&b, "DROP USER IF EXISTS '%s'@'%s';\n", u, h)
		}
	}
	// Names, host and password are checked: no quoting needed.
	fmt.Fprintf(&b, "CREATE USER IF NOT EXISTS '%[1]s'@'%[2]s' IDENTIFIED BY '%[3]s';\n"+
		"ALTER USER '%[1]s'@'%[2]s' IDENTIFIED BY '%[3]s';\n"+
		"CREATE DATABASE IF NOT EXISTS `%[1]s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n"+
		"GRANT ALL PRIVILEGES ON `%[1]s`.* TO '%[1]s'@'%[2]s';\n", u, host, password)
	if err := m.sql(ctx, "", strings.NewReader(b.String()), nil); err != nil {
		return fmt.Errorf("ensure %s: %w", app, err)
	}
	return nil
}

// Drop removes the app's database and its user at every host.
func (m *MariaDB) Drop(ctx context.Context, app string) error {
	if err := checkApp(app); err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	if !m.d.running() {
		return fmt.Errorf("mysql: %w", ErrNotRunning)
	}
	u := UserName(app)
	hosts, err := m.hosts(ctx, u)
	if err != nil {
		return fmt.Errorf("drop %s: %w", app, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "DROP DATABASE IF EXISTS `%s`;\n", u)
	for _, h := range hosts {
		fmt.Fprintf(&b, "DROP USER IF EXISTS '%s'@'%s';\n", u, h)
	}
	if err := m.sql(ctx, "", strings.NewReader(b.String()), nil); err != nil {
		return fmt.Errorf("drop %s: %w", app, err)
	}
	return nil
}

// Exists says whether the app's user or database exists.
func (m *MariaDB) Exists(ctx context.Context, app string) (user, database bool, err error) {
	if err := checkApp(app); err != nil {
		return false, false, fmt.Errorf("mysql: %w", err)
	}
	u := UserName(app)
	out, err := m.query(ctx, fmt.Sprintf("SELECT (SELECT count(*) FROM mysql.user WHERE User = '%[1]s'), (SELECT count(*) FROM information_schema.schemata WHERE schema_name = '%[1]s')", u))
	if err != nil {
		return false, false, err
	}
	f := strings.Fields(out)
	return len(f) == 2 && f[0] != "0", len(f) == 2 && f[1] != "0", nil
}

// Dump writes the app's database as SQL, read in one transaction
// (consistent for InnoDB tables).
func (m *MariaDB) Dump(ctx context.Context, app string, w io.Writer) error {
	if err := checkApp(app); err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	err := runTool(ctx, nil, w, m.cfg.DumpTool, "--no-defaults", "--socket="+m.sock(), "--user=root",
		"--single-transaction", "--skip-lock-tables", "--triggers", "--hex-blob", UserName(app))
	if err != nil {
		return fmt.Errorf("mysql: dump %s: %w", app, err)
	}
	return nil
}

// Restore makes the app's database anew and loads a Dump into it.
func (m *MariaDB) Restore(ctx context.Context, app string, r io.Reader) error {
	if err := checkApp(app); err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	u := UserName(app)
	if ok, _, err := m.Exists(ctx, app); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("mysql: restore %s: the app has no user (Ensure first): %w", app, ErrInvalid)
	}
	q := fmt.Sprintf("DROP DATABASE IF EXISTS `%[1]s`; CREATE DATABASE `%[1]s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;", u)
	if err := m.sql(ctx, "", strings.NewReader(q), nil); err != nil {
		return fmt.Errorf("restore %s: %w", app, err)
	}
	if err := m.sql(ctx, u, r, nil); err != nil {
		return fmt.Errorf("restore %s: %w", app, err)
	}
	return nil
}

// Env gives MYSQL_URL, _HOST, _PORT, _USERNAME, _PASSWORD, _DATABASE.
func (m *MariaDB) Env(app string, c Conn) map[string]string {
	u := UserName(app)
	link := url.URL{Scheme: "mysql", User: url.UserPassword(u, c.Password), Host: netip.AddrPortFrom(c.Host, m.cfg.Port).String(), Path: "/" + u}
	return map[string]string{
		"MYSQL_URL":      link.String(),
		"MYSQL_HOST":     c.Host.String(),
		"MYSQL_PORT":     strconv.Itoa(int(m.cfg.Port)),
		"MYSQL_USERNAME": u,
		"MYSQL_PASSWORD": c.Password,
		"MYSQL_DATABASE": u,
	}
}

// Port is the server's TCP port.
func (m *MariaDB) Port() uint16 { return m.cfg.Port }
