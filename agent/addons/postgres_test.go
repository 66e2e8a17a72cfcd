package addons

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func startPostgres(t *testing.T, dir string) *Postgres {
	t.Helper()
	needFiles(t, "postgresql", "/usr/lib/postgresql/15/bin/postgres", "/usr/lib/postgresql/15/bin/initdb")
	p, err := NewPostgres(PostgresConfig{Dir: dir, Port: freePort(t), Listen: []netip.Addr{gateway}, Output: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(testContext(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return p
}

// pgConnect logs in with the app's environment from the source address src.
func pgConnect(ctx context.Context, env map[string]string, src netip.Addr) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(env["POSTGRESQL_URL"] + "?sslmode=disable&connect_timeout=5")
	if err != nil {
		return nil, err
	}
	cfg.DialFunc = dialFrom(src)
	return pgx.ConnectConfig(ctx, cfg)
}

func pgRows(t *testing.T, ctx context.Context, c *pgx.Conn) []string {
	t.Helper()
	rows, err := c.Query(ctx, "SELECT note FROM notes ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// pgAuthFailed says whether err is the server refusing the login (wrong
// password, or no pg_hba.conf line for this user and address).
func pgAuthFailed(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000")
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	p := startPostgres(t, addonDir(t, "postgresql"))
	pwA, pwB := NewPassword(), NewPassword()
	if err := p.Ensure(ctx, "notes", subnetA, pwA); err != nil {
		t.Fatal(err)
	}
	if err := p.Ensure(ctx, "blog", subnetB, pwB); err != nil {
		t.Fatal(err)
	}
	envA := p.Env("notes", Conn{Host: local, Password: pwA})
	envB := p.Env("blog", Conn{Host: local, Password: pwB})

	t.Run("the app's credentials work", func(t *testing.T) {
		c, err := pgConnect(ctx, envA, clientA)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "CREATE TABLE notes (id serial PRIMARY KEY, note text); INSERT INTO notes (note) VALUES ('one'), ('two')"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("listens on the gateway too", func(t *testing.T) {
		c, err := pgConnect(ctx, p.Env("notes", Conn{Host: gateway, Password: pwA}), clientA)
		if err != nil {
			t.Fatal(err)
		}
		c.Close(ctx)
	})
	t.Run("ensure again keeps the data", func(t *testing.T) {
		if err := p.Ensure(ctx, "notes", subnetA, pwA); err != nil {
			t.Fatal(err)
		}
		c, err := pgConnect(ctx, envA, clientA)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if diff := cmp.Diff([]string{"one", "two"}, pgRows(t, ctx, c)); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
	})
	t.Run("isolation", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			env  map[string]string
			src  netip.Addr
		}{
			{"B's user on A's database", with(envA, "POSTGRESQL_URL", strings.TrimSuffix(envB["POSTGRESQL_URL"], "/app_blog")+"/app_notes"), clientB},
			{"B's user on A's database from A's subnet", with(envA, "POSTGRESQL_URL", strings.TrimSuffix(envB["POSTGRESQL_URL"], "/app_blog")+"/app_notes"), clientA},
			{"A's right password from B's subnet", envA, clientB},
			{"A's user with B's password", with(envA, "POSTGRESQL_URL", strings.Replace(envA["POSTGRESQL_URL"], pwA, pwB, 1)), clientA},
			{"A's user from the host's own address", envA, local},
			{"A's user with B's password on B's database", with(envA, "POSTGRESQL_URL", strings.Replace(envB["POSTGRESQL_URL"], "//app_blog:", "//app_notes:", 1)), clientB},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, err := pgConnect(ctx, tc.env, tc.src)
				if err == nil {
					c.Close(ctx)
					t.Fatalf("%s from %s: got a connection, want a refused login", tc.env["POSTGRESQL_URL"], tc.src)
				}
				if !pgAuthFailed(err) {
					t.Errorf("got %v, want an authentication error", err)
				}
			})
		}
	})
	t.Run("dump and restore give identical rows", func(t *testing.T) {
		var dump bytes.Buffer
		if err := p.Dump(ctx, "notes", &dump); err != nil {
			t.Fatal(err)
		}
		c, err := pgConnect(ctx, envA, clientA)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, "DELETE FROM notes WHERE note = 'one'; INSERT INTO notes (note) VALUES ('three')"); err != nil {
			t.Fatal(err)
		}
		c.Close(ctx)
		if err := p.Restore(ctx, "notes", &dump); err != nil {
			t.Fatal(err)
		}
		c, err = pgConnect(ctx, envA, clientA)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if diff := cmp.Diff([]string{"one", "two"}, pgRows(t, ctx, c)); diff != "" {
			t.Errorf("rows after restore (-want +got):\n%s", diff)
		}
		// The app owns what came back: it can write to the table.
		if _, err := c.Exec(ctx, "INSERT INTO notes (note) VALUES ('after')"); err != nil {
			t.Errorf("write after restore: %v", err)
		}
	})
	t.Run("rotate", func(t *testing.T) {
		pw := NewPassword()
		if err := p.Ensure(ctx, "blog", subnetB, pw); err != nil {
			t.Fatal(err)
		}
		if c, err := pgConnect(ctx, envB, clientB); err == nil {
			c.Close(ctx)
			t.Errorf("the old password still logs in")
		}
		c, err := pgConnect(ctx, p.Env("blog", Conn{Host: local, Password: pw}), clientB)
		if err != nil {
			t.Fatalf("the new password: %v", err)
		}
		c.Close(ctx)
	})
	t.Run("drop", func(t *testing.T) {
		for range 2 { // idempotent
			if err := p.Drop(ctx, "blog"); err != nil {
				t.Fatal(err)
			}
		}
		u, d, err := p.Exists(ctx, "blog")
		if err != nil || u || d {
			t.Errorf("after Drop: got user %v, database %v, %v, want neither", u, d, err)
		}
	})
	t.Run("a crashed server is restarted", func(t *testing.T) {
		before := p.d.starts()
		pid, err := p.query(ctx, "SELECT pg_postmaster_start_time()")
		if err != nil {
			t.Fatal(err)
		}
		killServer(t, p.dataDir()+"/postmaster.pid")
		deadline := time.Now().Add(30 * time.Second)
		for p.d.starts() == before || p.d.waitReady(ctx) != nil {
			if time.Now().After(deadline) {
				t.Fatalf("not restarted")
			}
			time.Sleep(100 * time.Millisecond)
		}
		if again, err := p.query(ctx, "SELECT pg_postmaster_start_time()"); err != nil || again == pid {
			t.Errorf("got start time %q (%v), want a new one", again, err)
		}
	})
}

func with(env map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for kk, vv := range env {
		out[kk] = vv
	}
	out[k] = v
	return out
}
