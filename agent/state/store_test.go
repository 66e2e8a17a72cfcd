package state

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestOpenCreatesPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openAt(t, path, Options{})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("got mode %v, want %v", got, want)
	}
	if got, want := s.SchemaVersion(), CurrentSchema; got != want {
		t.Errorf("got schema %d, want %d", got, want)
	}
	if got := s.Path(); got != path {
		t.Errorf("got path %q, want %q", got, path)
	}
}

func TestOpenRestrictsAnOpenMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	openAt(t, path, Options{})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("got mode %v, want %v", got, want)
	}
}

func TestOpenRefusesBadOptions(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(filepath.Join(dir, "target.db"), link); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		path  string
		opts  Options
		field string
	}{
		{"empty path", "", Options{}, "path:"},
		{"negative timeout", filepath.Join(dir, "a.db"), Options{Timeout: -time.Second}, "timeout:"},
		{"negative activity limit", filepath.Join(dir, "b.db"), Options{ActivityLimit: -1}, "activityLimit:"},
		{"negative ops per app", filepath.Join(dir, "c.db"), Options{OpsPerApp: -1}, "opsPerApp:"},
		{"a folder", dir, Options{}, "path: is not a regular file"},
		{"a symbolic link", link, Options{}, "path: is not a regular file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(c.path, c.opts)
			if err == nil {
				s.Close()
				t.Fatal("got no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want it to match ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Errorf("got %q, want it to mention %q", err, c.field)
			}
		})
	}
}

func TestSecondOpenFailsAfterTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	openAt(t, path, Options{})
	start := time.Now()
	s, err := Open(path, Options{Timeout: 300 * time.Millisecond})
	waited := time.Since(start)
	if err == nil {
		s.Close()
		t.Fatal("got no error for a file another store holds")
	}
	if !errors.Is(err, ErrLocked) {
		t.Errorf("got %v, want it to match ErrLocked", err)
	}
	for _, want := range []string{path, "locked by another process", "300ms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to say %q", err, want)
		}
	}
	// bbolt gives up one retry interval (50ms) before the timeout.
	if waited < 200*time.Millisecond {
		t.Errorf("got a failure after %v, want it after about the 300ms timeout", waited)
	}
}

func TestOpenAfterCloseSucceeds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutApp(testApp("web")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, Options{Timeout: 100 * time.Millisecond})
	if _, err := s.App("web"); err != nil {
		t.Errorf("got %v, want the app written before the reopen", err)
	}
}

func TestClosedStore(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "state.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apps(); !errors.Is(err, ErrClosed) {
		t.Errorf("Apps: got %v, want ErrClosed", err)
	}
	if err := s.PutApp(testApp("web")); !errors.Is(err, ErrClosed) {
		t.Errorf("PutApp: got %v, want ErrClosed", err)
	}
}

// writeRaw makes a bbolt file by hand, as an older or a damaged program
// would have left it.
func writeRaw(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// filled makes a valid state file holding a few hundred records.
func filled(t *testing.T, path string) {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Update(func(tx *Tx) error {
		for _, id := range []string{"web", "db", "wiki", "photos", "music"} {
			a := testApp(id)
			a.Manifest = []byte(`{"padding":"` + strings.Repeat("x", 3000) + `"}`)
			if err := tx.PutApp(a); err != nil {
				return err
			}
		}
		for i := range 300 {
			if _, err := tx.AddActivity(Activity{Actor: "test", Action: "fill", Outcome: "ok", Detail: strings.Repeat("y", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCorruptFileIsAClearError(t *testing.T) {
	cases := []struct {
		name string
		make func(t *testing.T, path string)
		want string // in the error
	}{
		{"garbage", func(t *testing.T, path string) {
			mustWrite(t, path, bytes.Repeat([]byte("not a database "), 4096))
		}, "invalid database"},
		{"a few bytes", func(t *testing.T, path string) {
			mustWrite(t, path, []byte("hello"))
		}, "corrupt"},
		{"truncated", func(t *testing.T, path string) {
			filled(t, path)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, fi.Size()/3); err != nil {
				t.Fatal(err)
			}
		}, "corrupt"},
		{"pages overwritten", func(t *testing.T, path string) {
			filled(t, path)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Keep the two meta pages, ruin every other page.
			for i := 2 * 4096; i < len(raw); i++ {
				raw[i] = 0xff
			}
			mustWrite(t, path, raw)
		}, "corrupt"},
		{"record not JSON", func(t *testing.T, path string) {
			filled(t, path)
			writeRaw(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket(bucketApps).Put([]byte("web"), []byte("{not json"))
			})
		}, "apps/web: decode"},
		{"record under another key", func(t *testing.T, path string) {
			filled(t, path)
			writeRaw(t, path, func(tx *bolt.Tx) error {
				raw := tx.Bucket(bucketApps).Get([]byte("web"))
				return tx.Bucket(bucketApps).Put([]byte("www"), bytes.Clone(raw))
			})
		}, "apps/www: holds the record of web"},
		{"unknown field", func(t *testing.T, path string) {
			filled(t, path)
			writeRaw(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket(bucketCatalogs).Put([]byte("x1"), []byte(`{"id":"x1","colour":"red"}`))
			})
		}, `catalogs/x1: decode: json: unknown field "colour"`},
		{"bad schema value", func(t *testing.T, path string) {
			filled(t, path)
			writeRaw(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket(bucketMeta).Put(schemaKey, []byte("one"))
			})
		}, `meta/schema is "one"`},
		{"bucket missing", func(t *testing.T, path string) {
			filled(t, path)
			writeRaw(t, path, func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketCatalogs) })
		}, "bucket catalogs is missing"},
		{"index names no operation", func(t *testing.T, path string) {
			filled(t, path)
			writeRaw(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket(bucketOpsByApp).Put([]byte("web/01XYZ"), nil)
			})
		}, "opsByApp/web/01XYZ: names no operation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			c.make(t, path)
			s, err := Open(path, Options{Timeout: 200 * time.Millisecond})
			if err == nil {
				s.Close()
				t.Fatal("got no error for a damaged file")
			}
			t.Log(err)
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("got %v, want it to match ErrCorrupt", err)
			}
			for _, want := range []string{path, c.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got %q, want it to say %q", err, want)
				}
			}
		})
	}
}

func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestWatchSignalsCommittedWrites(t *testing.T) {
	s := openTest(t, Options{})
	w := s.Watch()
	if got, want := cap(w), 1; got != want {
		t.Fatalf("got capacity %d, want %d", got, want)
	}
	signalled := func() bool {
		select {
		case <-w:
			return true
		default:
			return false
		}
	}
	steps := []struct {
		name  string
		write func() error
		want  bool
	}{
		{"new app", func() error { return s.PutApp(testApp("web")) }, true},
		{"same app again", func() error { return s.PutApp(testApp("web")) }, false},
		{"failed write", func() error { return s.PutApp(App{ID: "BAD"}) }, false},
		{"rolled back update", func() error {
			return s.Update(func(tx *Tx) error {
				if err := tx.PutApp(testApp("db")); err != nil {
					return err
				}
				return errors.New("changed my mind")
			})
		}, false},
		{"activity", func() error { _, err := s.AddActivity(Activity{Actor: "a", Action: "b", Outcome: "ok"}); return err }, true},
		{"read", func() error { _, err := s.Apps(); return err }, false},
	}
	for _, st := range steps {
		_ = st.write()
		if got := signalled(); got != st.want {
			t.Errorf("%s: got signal %v, want %v", st.name, got, st.want)
		}
	}
	// Signals coalesce: two writes, one pending signal.
	if err := s.PutApp(testApp("a1")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutApp(testApp("a2")); err != nil {
		t.Fatal(err)
	}
	if got, want := len(w), 1; got != want {
		t.Errorf("got %d pending signals after two writes, want %d", got, want)
	}
}
