package addons

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"
)

func startMariaDB(t *testing.T, dir string) *MariaDB {
	t.Helper()
	needFiles(t, "mariadb-server", "/usr/sbin/mariadbd", "/usr/bin/mariadb-install-db", "/usr/bin/mariadb", "/usr/bin/mariadb-dump")
	// 127.0.0.2 stands for an app network's gateway: a second address.
	m, err := NewMariaDB(MariaDBConfig{Dir: dir, Port: freePort(t), Listen: []netip.Addr{gateway}, Output: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(testContext(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return m
}

// myConnect logs in with the app's environment (user, password, database
// given apart) from the source address src.
func myConnect(ctx context.Context, env map[string]string, user, password, database string, src netip.Addr) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = user, password, database
	cfg.Net, cfg.Addr = "tcp", env["MYSQL_HOST"]+":"+env["MYSQL_PORT"]
	cfg.DialFunc = dialFrom(src)
	cfg.Timeout = 5 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func myLogin(ctx context.Context, env map[string]string, src netip.Addr) (*sql.DB, error) {
	return myConnect(ctx, env, env["MYSQL_USERNAME"], env["MYSQL_PASSWORD"], env["MYSQL_DATABASE"], src)
}

func myRows(t *testing.T, ctx context.Context, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(ctx, "SELECT note FROM notes ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// myDenied says whether err is the server refusing a login: wrong
// password (1045), no such user at this host (1698), no user at all from
// this host (1130), or no access to the database (1044).
func myDenied(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1045 || me.Number == 1044 || me.Number == 1698 || me.Number == 1130)
}

func TestMariaDB(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	m := startMariaDB(t, addonDir(t, "mysql"))
	pwA, pwB := NewPassword(), NewPassword()
	if err := m.Ensure(ctx, "notes", subnetA, pwA); err != nil {
		t.Fatal(err)
	}
	if err := m.Ensure(ctx, "blog", subnetB, pwB); err != nil {
		t.Fatal(err)
	}
	envA := m.Env("notes", Conn{Host: local, Password: pwA})
	envB := m.Env("blog", Conn{Host: local, Password: pwB})

	t.Run("the app's credentials work", func(t *testing.T) {
		db, err := myLogin(ctx, envA, clientA)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range []string{"CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, note TEXT) ENGINE=InnoDB", "INSERT INTO notes (note) VALUES ('one'), ('two')"} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("listens on the gateway too", func(t *testing.T) {
		db, err := myLogin(ctx, m.Env("notes", Conn{Host: gateway, Password: pwA}), clientA)
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
	})
	t.Run("isolation", func(t *testing.T) {
		for _, tc := range []struct {
			name, user, password, database string
			src                            netip.Addr
		}{
			{"B's user on A's database", envB["MYSQL_USERNAME"], pwB, envA["MYSQL_DATABASE"], clientB},
			{"B's user on A's database from A's subnet", envB["MYSQL_USERNAME"], pwB, envA["MYSQL_DATABASE"], clientA},
			{"A's right password from B's subnet", envA["MYSQL_USERNAME"], pwA, envA["MYSQL_DATABASE"], clientB},
			{"A's user with B's password", envA["MYSQL_USERNAME"], pwB, envA["MYSQL_DATABASE"], clientA},
			{"A's user from the host's own address", envA["MYSQL_USERNAME"], pwA, envA["MYSQL_DATABASE"], local},
			{"root over TCP", "root", "", "", clientA},
		} {
			t.Run(tc.name, func(t *testing.T) {
				db, err := myConnect(ctx, envA, tc.user, tc.password, tc.database, tc.src)
				if err == nil {
					db.Close()
					t.Fatalf("got a connection, want a refused login")
				}
				if !myDenied(err) {
					t.Errorf("got %v, want access denied", err)
				}
			})
		}
	})
	t.Run("dump and restore give identical rows", func(t *testing.T) {
		var dump bytes.Buffer
		if err := m.Dump(ctx, "notes", &dump); err != nil {
			t.Fatal(err)
		}
		db, err := myLogin(ctx, envA, clientA)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "DELETE FROM notes WHERE note = 'one'"); err != nil {
			t.Fatal(err)
		}
		if err := m.Restore(ctx, "notes", &dump); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"one", "two"}, myRows(t, ctx, db)); diff != "" {
			t.Errorf("rows after restore (-want +got):\n%s", diff)
		}
	})
	t.Run("a new subnet replaces the old", func(t *testing.T) {
		other := netip.MustParsePrefix("127.0.12.0/24")
		if err := m.Ensure(ctx, "blog", other, pwB); err != nil {
			t.Fatal(err)
		}
		if db, err := myLogin(ctx, envB, clientB); err == nil {
			db.Close()
			t.Errorf("the old subnet still logs in")
		}
		db, err := myLogin(ctx, envB, netip.MustParseAddr("127.0.12.9"))
		if err != nil {
			t.Fatalf("the new subnet: %v", err)
		}
		db.Close()
	})
	t.Run("drop", func(t *testing.T) {
		for range 2 {
			if err := m.Drop(ctx, "blog"); err != nil {
				t.Fatal(err)
			}
		}
		u, d, err := m.Exists(ctx, "blog")
		if err != nil || u || d {
			t.Errorf("after Drop: got user %v, database %v, %v, want neither", u, d, err)
		}
	})
	if _, err := strconv.Atoi(envA["MYSQL_PORT"]); err != nil {
		t.Errorf("MYSQL_PORT %q: %v", envA["MYSQL_PORT"], err)
	}
}
