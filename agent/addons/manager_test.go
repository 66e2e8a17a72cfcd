package addons

import (
	"context"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestManagerAppLifecycle is acceptance 1 at the servers' level: an app
// asking for postgresql and redis gets working credentials through its
// environment, writes, the servers restart (as at a reboot), and it reads
// its data back; a kind no app uses is stopped.
func TestManagerAppLifecycle(t *testing.T) {
	t.Parallel()
	needFiles(t, "postgresql redis-server", "/usr/lib/postgresql/15/bin/postgres", "/usr/bin/redis-server")
	ctx := testContext(t)
	m, err := NewManager(ManagerConfig{
		Dir:        addonDir(t, "addons"),
		PostgreSQL: PostgresConfig{Port: freePort(t)},
		Redis:      RedisConfig{Port: freePort(t)},
		MySQL:      MariaDBConfig{Port: freePort(t)},
		Sendmail:   SendmailConfig{Port: freePort(t)},
		Output:     testWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	// 127.0.0.1 is on every host, so the "gateway" is listened on; an
	// address no interface has is left out rather than failing the start.
	use := map[string][]netip.Addr{
		KindPostgreSQL: {local, netip.MustParseAddr("192.0.2.1")},
		KindRedis:      {local},
	}
	if err := m.Sync(ctx, use); err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[string]bool{KindPostgreSQL: true, KindRedis: true, KindMySQL: false, KindSendmail: false} {
		if s, _ := m.Server(kind); s.Running() != want {
			t.Errorf("%s running: got %v, want %v", kind, s.Running(), want)
		}
	}
	pg, _ := m.Server(KindPostgreSQL)
	rd, _ := m.Server(KindRedis)
	pwPG, pwRD := NewPassword(), NewPassword()
	if err := pg.Ensure(ctx, "notes", subnetA, pwPG); err != nil {
		t.Fatal(err)
	}
	if err := rd.Ensure(ctx, "notes", subnetA, pwRD); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range pg.Env("notes", Conn{Host: local, Password: pwPG}) {
		env[k] = v
	}
	for k, v := range rd.Env("notes", Conn{Host: local, Password: pwRD}) {
		env[k] = v
	}

	write := func() {
		c, err := pgConnect(ctx, env, clientA)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "CREATE TABLE notes (id serial PRIMARY KEY, note text); INSERT INTO notes (note) VALUES ('kept')"); err != nil {
			t.Fatal(err)
		}
		r, err := redisLogin(ctx, env, clientA)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := r.do("SET", env["REDIS_KEY_PREFIX"]+"counter", "41"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.do("INCR", env["REDIS_KEY_PREFIX"]+"counter"); err != nil {
			t.Fatal(err)
		}
	}
	write()
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Sync(ctx, use); err != nil {
		t.Fatal(err)
	}
	c, err := pgConnect(ctx, env, clientA)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if diff := cmp.Diff([]string{"kept"}, pgRows(t, ctx, c)); diff != "" {
		t.Errorf("rows after a restart (-want +got):\n%s", diff)
	}
	r, err := redisLogin(ctx, env, clientA)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if v, err := r.do("GET", env["REDIS_KEY_PREFIX"]+"counter"); err != nil || v != "42" {
		t.Errorf("counter after a restart: got %v, %v, want 42", v, err)
	}
	if err := m.Sync(ctx, map[string][]netip.Addr{KindRedis: {local}}); err != nil {
		t.Fatal(err)
	}
	if pg.Running() {
		t.Errorf("postgresql runs with no app using it")
	}
}
