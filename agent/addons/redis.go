package addons

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
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

// RedisConfig configures the Redis server.
type RedisConfig struct {
	// Dir holds the data, the socket, redis.conf and users.acl;
	// <state>/addons/redis. Its parents must let User through.
	Dir string
	// Binary is redis-server; default /usr/bin/redis-server.
	Binary string
	// Port is the TCP port; default 6379.
	Port uint16
	// Listen are the addresses besides 127.0.0.1 to listen on.
	Listen []netip.Addr
	// User is the system account the server runs as; default redis.
	User string
	// MaxMemory is maxmemory; default 64mb.
	MaxMemory string
	// Output receives the server's log; nil discards it.
	Output io.Writer
	// Logger receives Hearth's own logs; nil discards them.
	Logger *slog.Logger
}

// Redis is the Redis server of the redis addon and its Provisioner. All
// apps share one server: each gets an ACL user UserName(app) allowed only
// keys and channels that start with "<app>:" (REDIS_KEY_PREFIX) and no
// administrative or dangerous command. Redis has no per-address login
// rule: the firewall lets only networks of apps with the addon reach the
// port (runtime/network HostPorts). The default user is off; Hearth's own
// admin user logs in through the unix socket, in a folder only root and
// redis enter.
type Redis struct {
	cfg RedisConfig
	d   *daemon
	// opMu serialises Start, Stop and SetListen (the agent's loop and
	// its operations may call them at once).
	opMu sync.Mutex
	// mu guards listen.
	mu     sync.Mutex
	listen []netip.Addr
}

var _ Provisioner = (*Redis)(nil)

// NewRedis validates cfg. It starts nothing.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	if !filepath.IsAbs(cfg.Dir) {
		return nil, fmt.Errorf("redis: Dir %q: must be an absolute path: %w", cfg.Dir, ErrInvalid)
	}
	if cfg.Binary == "" {
		cfg.Binary = "/usr/bin/redis-server"
	}
	if cfg.Port == 0 {
		cfg.Port = 6379
	}
	if cfg.User == "" {
		cfg.User = "redis"
	}
	if cfg.MaxMemory == "" {
		cfg.MaxMemory = "64mb"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	listen, err := listenAddrs(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	r := &Redis{cfg: cfg, listen: listen}
	r.d = newDaemon(daemonConfig{
		name: "redis", user: cfg.User, stop: syscall.SIGTERM,
		argv:   []string{cfg.Binary, filepath.Join(cfg.Dir, "redis.conf")},
		ready:  func(ctx context.Context) error { _, err := r.admin(ctx, "PING"); return err },
		output: cfg.Output, log: cfg.Logger.With("component", "addons"),
	})
	return r, nil
}

func (r *Redis) sock() string      { return filepath.Join(r.cfg.Dir, "redis.sock") }
func (r *Redis) adminFile() string { return filepath.Join(r.cfg.Dir, "admin.secret") }
func (r *Redis) aclFile() string   { return filepath.Join(r.cfg.Dir, "users.acl") }
func (r *Redis) dataDir() string   { return filepath.Join(r.cfg.Dir, "data") }
func (r *Redis) confFile() string  { return filepath.Join(r.cfg.Dir, "redis.conf") }
func (r *Redis) adminPassword() (string, error) {
	b, err := os.ReadFile(r.adminFile())
	if err != nil {
		return "", fmt.Errorf("redis: admin password: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Start writes redis.conf (and, the first time, the admin user), starts
// the server and waits until it answers.
func (r *Redis) Start(ctx context.Context) error {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	return r.start(ctx)
}

func (r *Redis) start(ctx context.Context) error {
	if r.d.running() {
		return r.d.waitReady(ctx)
	}
	for _, d := range []string{r.cfg.Dir, r.dataDir()} {
		if err := prepareDir(d, r.cfg.User); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
	}
	if _, err := os.Stat(r.adminFile()); err != nil {
		// First start (or a crash before the file was written): a new
		// admin, and an ACL file with it alone.
		pw := NewPassword()
		acl := "user default off\nuser hearth on >" + pw + " ~* &* +@all\n"
		if err := writeOwned(r.aclFile(), []byte(acl), r.cfg.User, 0o600); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		if err := writeOwned(r.adminFile(), []byte(pw+"\n"), "root", 0o600); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
	}
	r.mu.Lock()
	conf := r.conf()
	r.mu.Unlock()
	if err := writeOwned(r.confFile(), conf, r.cfg.User, 0o600); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	if err := r.d.start(ctx); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

func (r *Redis) conf() []byte {
	addrs := make([]string, len(r.listen))
	for i, a := range r.listen {
		addrs[i] = a.String()
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `# Written by Hearth; changes are lost.
bind %s
port %d
protected-mode yes
unixsocket %s
unixsocketperm 700
daemonize no
supervised no
logfile ""
dir %s
aclfile %s
maxmemory %s
maxmemory-policy noeviction
appendonly yes
appendfsync everysec
save 900 1 300 10 60 10000
databases 1
`, strings.Join(addrs, " "), r.cfg.Port, r.sock(), r.dataDir(), r.aclFile(), r.cfg.MaxMemory)
	return b.Bytes()
}

// Stop shuts the server down (it saves first).
func (r *Redis) Stop(ctx context.Context) error {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	return r.d.stop(ctx)
}

// Running says whether the server was started and not stopped.
func (r *Redis) Running() bool { return r.d.running() }

// SetListen changes the addresses besides 127.0.0.1 the server listens
// on; a running server is restarted when they change.
func (r *Redis) SetListen(ctx context.Context, addrs []netip.Addr) error {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	listen, err := listenAddrs(addrs)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	r.mu.Lock()
	same := slices.Equal(listen, r.listen)
	r.listen = listen
	r.mu.Unlock()
	if same || !r.d.running() {
		return nil
	}
	if err := r.d.stop(ctx); err != nil {
		return err
	}
	return r.start(ctx)
}

// session opens an admin connection through the socket.
func (r *Redis) session(ctx context.Context) (*respConn, error) {
	pw, err := r.adminPassword()
	if err != nil {
		return nil, err
	}
	c, err := dialRESP(ctx, "unix", r.sock())
	if err != nil {
		return nil, err
	}
	if _, err := c.do("AUTH", "hearth", pw); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// admin runs commands as the admin and returns the last reply.
func (r *Redis) admin(ctx context.Context, cmds ...string) (any, error) {
	c, err := r.session(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.do(cmds...)
}

// KeyPrefix is what every key (and channel) of the app starts with.
func KeyPrefix(app string) string { return app + ":" }

// Ensure creates or resets the app's ACL user and saves the ACL file. The
// subnet is checked but not used: Redis cannot limit a user to addresses.
func (r *Redis) Ensure(ctx context.Context, app string, subnet netip.Prefix, password string) error {
	if err := checkArgs(app, subnet, password); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	if !r.d.running() {
		return fmt.Errorf("redis: %w", ErrNotRunning)
	}
	c, err := r.session(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	p := KeyPrefix(app)
	if _, err := c.do("ACL", "SETUSER", UserName(app), "reset", "on", ">"+password, "~"+p+"*", "&"+p+"*",
		"+@all", "-@admin", "-@dangerous", "-select", "-swapdb", "-move"); err != nil {
		return fmt.Errorf("redis: ensure %s: %w", app, err)
	}
	if _, err := c.do("ACL", "SAVE"); err != nil {
		return fmt.Errorf("redis: ensure %s: %w", app, err)
	}
	return nil
}

// Drop deletes the app's keys and its user.
func (r *Redis) Drop(ctx context.Context, app string) error {
	if err := checkApp(app); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	if !r.d.running() {
		return fmt.Errorf("redis: %w", ErrNotRunning)
	}
	c, err := r.session(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.do("ACL", "DELUSER", UserName(app)); err != nil {
		return fmt.Errorf("redis: drop %s: %w", app, err)
	}
	if _, err := c.do("ACL", "SAVE"); err != nil {
		return fmt.Errorf("redis: drop %s: %w", app, err)
	}
	return r.eachKey(c, app, func(k string) error {
		_, err := c.do("UNLINK", k)
		return err
	})
}

// eachKey calls fn with every key of the app.
func (r *Redis) eachKey(c *respConn, app string, fn func(string) error) error {
	cursor := "0"
	for {
		reply, err := c.do("SCAN", cursor, "MATCH", KeyPrefix(app)+"*", "COUNT", "500")
		if err != nil {
			return fmt.Errorf("redis: scan: %w", err)
		}
		arr, ok := reply.([]any)
		if !ok || len(arr) != 2 {
			return errors.New("redis: scan: unexpected reply")
		}
		keys, _ := arr[1].([]any)
		for _, k := range keys {
			if s, ok := k.(string); ok {
				if err := fn(s); err != nil {
					return fmt.Errorf("redis: %w", err)
				}
			}
		}
		if cursor, _ = arr[0].(string); cursor == "0" || cursor == "" {
			return nil
		}
	}
}

// dumpMagic starts a Redis dump of Hearth: then, for each key, its name,
// its time to live in milliseconds (0: none) and its DUMP payload, each a
// uvarint length (the TTL a uvarint) and bytes.
const dumpMagic = "hearth-redis-dump-1\n"

// Dump writes every key of the app with its TTL. Keys are copied one by
// one (Redis has no snapshot of a key range): an app that writes during
// the dump gets each key as it was at some moment of it, which is what a
// backup of a stopped app (the data issue stops it) does not notice.
func (r *Redis) Dump(ctx context.Context, app string, w io.Writer) error {
	if err := checkApp(app); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	c, err := r.session(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := io.WriteString(w, dumpMagic); err != nil {
		return fmt.Errorf("redis: dump %s: %w", app, err)
	}
	return r.eachKey(c, app, func(k string) error {
		payload, err := c.do("DUMP", k)
		if err != nil {
			return err
		}
		data, ok := payload.(string)
		if !ok {
			return nil // gone since the scan
		}
		ttl, err := c.do("PTTL", k)
		if err != nil {
			return err
		}
		ms, _ := ttl.(int64)
		buf := binary.AppendUvarint(nil, uint64(len(k)))
		buf = append(buf, k...)
		buf = binary.AppendUvarint(buf, uint64(max(ms, 0)))
		buf = binary.AppendUvarint(buf, uint64(len(data)))
		buf = append(buf, data...)
		_, err = w.Write(buf)
		return err
	})
}

// Restore deletes the app's keys and loads a Dump. The dump is read and
// checked whole before anything is deleted (it is at most the server's
// maxmemory): a key outside the app's prefix, or a cut dump, changes
// nothing.
func (r *Redis) Restore(ctx context.Context, app string, rd io.Reader) error {
	if err := checkApp(app); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	entries, err := readRedisDump(bufioReader(rd), KeyPrefix(app))
	if err != nil {
		return fmt.Errorf("redis: restore %s: %w", app, err)
	}
	c, err := r.session(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := r.eachKey(c, app, func(k string) error { _, err := c.do("UNLINK", k); return err }); err != nil {
		return err
	}
	for _, e := range entries {
		if _, err := c.do("RESTORE", e.key, strconv.FormatUint(e.ttl, 10), e.data, "REPLACE"); err != nil {
			return fmt.Errorf("redis: restore %s: %w", app, err)
		}
	}
	return nil
}

type redisEntry struct {
	key, data string
	ttl       uint64
}

func readRedisDump(br byteReader, prefix string) ([]redisEntry, error) {
	head := make([]byte, len(dumpMagic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != dumpMagic {
		return nil, fmt.Errorf("not a Hearth redis dump: %w", ErrInvalid)
	}
	var out []redisEntry
	for {
		key, err := readChunk(br)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		ttl, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, fmt.Errorf("ttl: %w", io.ErrUnexpectedEOF)
		}
		data, err := readChunk(br)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(key, prefix) {
			return nil, fmt.Errorf("key %q does not start with %q: %w", key, prefix, ErrInvalid)
		}
		out = append(out, redisEntry{key: key, data: data, ttl: ttl})
	}
}

// Env gives REDIS_URL, _HOST, _PORT, _USERNAME, _PASSWORD and
// REDIS_KEY_PREFIX (every key of the app must start with it).
func (r *Redis) Env(app string, c Conn) map[string]string {
	u := UserName(app)
	link := url.URL{Scheme: "redis", User: url.UserPassword(u, c.Password), Host: netip.AddrPortFrom(c.Host, r.cfg.Port).String()}
	return map[string]string{
		"REDIS_URL":        link.String(),
		"REDIS_HOST":       c.Host.String(),
		"REDIS_PORT":       strconv.Itoa(int(r.cfg.Port)),
		"REDIS_USERNAME":   u,
		"REDIS_PASSWORD":   c.Password,
		"REDIS_KEY_PREFIX": KeyPrefix(app),
	}
}

// Port is the server's TCP port.
func (r *Redis) Port() uint16 { return r.cfg.Port }
