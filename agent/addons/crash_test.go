package addons

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPostgresHalfMade leaves what a crash between the statements of
// Ensure leaves, and checks that Ensure finishes it and Drop removes it,
// so that an install resumed or undone after a crash leaves nothing half
// made.
func TestPostgresHalfMade(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	p := startPostgres(t, addonDir(t, "postgresql"))
	for _, tc := range []struct {
		name string
		make string // SQL a crash left behind
	}{
		{"user, no database", "CREATE ROLE app_notes LOGIN"},
		{"database, no user", "CREATE DATABASE app_notes"},
		{"user and database, no access line", "CREATE ROLE app_notes LOGIN; CREATE DATABASE app_notes OWNER app_notes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, stmt := range splitSQL(tc.make) {
				if _, err := p.query(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
			pw := NewPassword()
			if err := p.Ensure(ctx, "notes", subnetA, pw); err != nil {
				t.Fatalf("Ensure over a half-made app: %v", err)
			}
			c, err := pgConnect(ctx, p.Env("notes", Conn{Host: local, Password: pw}), clientA)
			if err != nil {
				t.Fatalf("login after Ensure: %v", err)
			}
			c.Close(ctx)
			if err := p.Drop(ctx, "notes"); err != nil {
				t.Fatal(err)
			}
			u, d, err := p.Exists(ctx, "notes")
			if err != nil || u || d {
				t.Errorf("after Drop: got user %v, database %v, %v, want neither", u, d, err)
			}
		})
	}
	t.Run("drop of a half-made app", func(t *testing.T) {
		if _, err := p.query(ctx, "CREATE ROLE app_notes LOGIN"); err != nil {
			t.Fatal(err)
		}
		if err := p.Drop(ctx, "notes"); err != nil {
			t.Fatal(err)
		}
		if u, d, err := p.Exists(ctx, "notes"); err != nil || u || d {
			t.Errorf("after Drop: got user %v, database %v, %v, want neither", u, d, err)
		}
	})
}

func splitSQL(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// TestMariaDBHalfMade is TestPostgresHalfMade for MariaDB.
func TestMariaDBHalfMade(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	m := startMariaDB(t, addonDir(t, "mysql"))
	for _, tc := range []struct {
		name string
		make string
	}{
		{"user, no database", "CREATE USER 'app_notes'@'127.0.10.0/255.255.255.0' IDENTIFIED BY 'old'"},
		{"database, no user", "CREATE DATABASE app_notes"},
		{"user without grant", "CREATE USER 'app_notes'@'127.0.10.0/255.255.255.0' IDENTIFIED BY 'old'; CREATE DATABASE app_notes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m.query(ctx, tc.make); err != nil {
				t.Fatal(err)
			}
			pw := NewPassword()
			if err := m.Ensure(ctx, "notes", subnetA, pw); err != nil {
				t.Fatalf("Ensure over a half-made app: %v", err)
			}
			db, err := myLogin(ctx, m.Env("notes", Conn{Host: local, Password: pw}), clientA)
			if err != nil {
				t.Fatalf("login after Ensure: %v", err)
			}
			if _, err := db.ExecContext(ctx, "CREATE TABLE t (x INT)"); err != nil {
				t.Errorf("write after Ensure: %v", err)
			}
			db.Close()
			if err := m.Drop(ctx, "notes"); err != nil {
				t.Fatal(err)
			}
			if u, d, err := m.Exists(ctx, "notes"); err != nil || u || d {
				t.Errorf("after Drop: got user %v, database %v, %v, want neither", u, d, err)
			}
		})
	}
}

// TestMigrate moves an app between two PostgreSQL clusters, as a major
// upgrade does. Debian 12 has only PostgreSQL 15, so both are 15 here:
// the test proves the dump, the backup files and the restore into a fresh
// cluster, not a change of version.
func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	from := startPostgres(t, addonDir(t, "postgresql-15"))
	to := startPostgres(t, addonDir(t, "postgresql-16"))
	apps := []AppAccess{{"notes", subnetA, NewPassword()}, {"blog", subnetB, NewPassword()}}
	want := map[string][]string{}
	for i, a := range apps {
		if err := from.Ensure(ctx, a.App, a.Subnet, a.Password); err != nil {
			t.Fatal(err)
		}
		src := []netip.Addr{clientA, clientB}[i]
		c, err := pgConnect(ctx, from.Env(a.App, Conn{Host: local, Password: a.Password}), src)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, "CREATE TABLE notes (id serial PRIMARY KEY, note text); INSERT INTO notes (note) VALUES ('"+a.App+" 1'), ('"+a.App+" 2')"); err != nil {
			t.Fatal(err)
		}
		c.Close(ctx)
		want[a.App] = []string{a.App + " 1", a.App + " 2"}
	}
	backup := filepath.Join(t.TempDir(), "backup")
	if err := Migrate(ctx, from, to, apps, backup); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for i, a := range apps {
		c, err := pgConnect(ctx, to.Env(a.App, Conn{Host: local, Password: a.Password}), []netip.Addr{clientA, clientB}[i])
		if err != nil {
			t.Fatal(err)
		}
		got[a.App] = pgRows(t, ctx, c)
		c.Close(ctx)
		if fi, err := os.Stat(filepath.Join(backup, a.App+".dump")); err != nil || fi.Size() == 0 {
			t.Errorf("backup of %s: got %v, %v, want a dump file", a.App, fi, err)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows on the new server (-want +got):\n%s", diff)
	}
}
