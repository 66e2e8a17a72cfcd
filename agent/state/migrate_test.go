package state

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
)

var update = flag.Bool("update", false, "write the fixture of the current schema if it is missing")

func TestMigrationsMatchTheSchema(t *testing.T) {
	if got, want := len(migrations()), CurrentSchema; got != want {
		t.Errorf("got %d migrations, want %d (one per schema step)", got, want)
	}
}

// contents is everything a state file holds, read through the store.
type contents struct {
	Apps     []App
	Ops      []Operation
	Activity []Activity
	Catalogs []CatalogRecord
}

func readAll(t *testing.T, s *Store) contents {
	t.Helper()
	var c contents
	err := s.View(func(tx *Tx) error {
		var err error
		if c.Apps, err = tx.Apps(); err != nil {
			return err
		}
		if c.Activity, err = tx.Activity(0, 0); err != nil {
			return err
		}
		if c.Catalogs, err = tx.Catalogs(); err != nil {
			return err
		}
		for _, app := range []string{"hello", "nextcloud"} {
			ops, err := tx.Ops(app, 0)
			if err != nil {
				return err
			}
			for i := len(ops) - 1; i >= 0; i-- {
				c.Ops = append(c.Ops, ops[i])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fixtureV1 is what testdata/schema-1.db holds, as this code reads it.
func fixtureV1() contents {
	key := func(b byte) []byte { return []byte(strings.Repeat(string(rune('A'+b)), 32)) }
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	nc := json.RawMessage(`{"id":"nextcloud","version":"29.0.1"}`)
	ncOld := json.RawMessage(`{"id":"nextcloud","version":"29.0.0"}`)
	return contents{
		Apps: []App{
			{ID: "hello", CatalogID: "sample", Version: "1.0.0", Manifest: json.RawMessage(`{"id":"hello"}`),
				Wanted: WantStopped, Installed: at(4), Updated: at(6), Generation: 4},
			{ID: "nextcloud", CatalogID: "official", Version: "29.0.1", Manifest: nc,
				Settings: map[string]string{"title": "Family cloud"}, Secrets: map[string]string{"adminPassword": "fixture-not-a-secret"},
				Wanted: WantRunning, PreviousVersion: "29.0.0", PreviousManifest: ncOld,
				PreviousSettings: map[string]string{"title": "Cloud"}, Installed: at(1), Updated: at(3), Generation: 2},
		},
		Ops: []Operation{
			{ID: "01JN0000000000000000000003", App: "hello", Kind: KindInstall, State: OpDone,
				Steps:   []Step{{Name: "pull", State: StepDone, Started: at(4), Ended: at(4), Detail: "5 MB"}},
				Started: at(4), Ended: at(5), Actor: "cli:root"},
			{ID: "01JN0000000000000000000004", App: "hello", Kind: KindStart, State: OpRunning,
				Steps: []Step{{Name: "start", State: StepRunning, Started: at(7)}}, Started: at(7), Actor: "reconcile"},
			{ID: "01JN0000000000000000000001", App: "nextcloud", Kind: KindInstall, State: OpDone,
				Params: json.RawMessage(`{"version":"29.0.0"}`), Started: at(0), Ended: at(1), Actor: "web:owner"},
			{ID: "01JN0000000000000000000002", App: "nextcloud", Kind: KindUpdate, State: OpRolledBack,
				Params: json.RawMessage(`{"version":"29.0.2"}`), Error: "health check failed: 503",
				Steps:   []Step{{Name: "pull", State: StepDone}, {Name: "swap", State: StepUndone, Detail: "back to 29.0.1"}},
				Started: at(2), Ended: at(3), Actor: "web:owner"},
		},
		Activity: []Activity{
			{Seq: 1, Time: at(1), Actor: "web:owner", App: "nextcloud", Action: "install", Outcome: "ok"},
			{Seq: 2, Time: at(3), Actor: "web:owner", App: "nextcloud", Action: "update", Outcome: "rolledback", Detail: "health check failed: 503"},
			{Seq: 3, Time: at(5), Actor: "cli:root", App: "hello", Action: "install", Outcome: "ok"},
			{Seq: 4, Time: at(6), Actor: "cli:root", Action: "catalog.add", Outcome: "failed", Detail: "bad signature"},
		},
		Catalogs: []CatalogRecord{
			{ID: "friends", Title: "Friends' apps", URL: "https://apps.example.org/catalog.json", ThirdParty: true,
				Keys: []KeyRecord{{ID: "k1", Public: key(1)}}, LastError: "bad signature", LastRefresh: at(6)},
			{ID: "official", Title: "Hearth", URL: "https://catalog.hearth.example/v1/catalog.json", Official: true,
				Keys:      []KeyRecord{{ID: "2026-01", Public: key(0)}, {ID: "2026-07", Public: key(2)}},
				Envelope:  []byte(`{"payload":"e30=","signatures":[{"keyId":"2026-01","sig":"AA=="}]}`),
				Timestamp: at(-60), Digest: "sha256:5d41402abc4b2a76b9719d911017c592", LastRefresh: at(0)},
		},
	}
}

// writeFixtureV1 writes fixtureV1 through the store's API, with the clock
// the fixture's times need.
func writeFixtureV1(path string) error {
	clk := newClock()
	s, err := Open(path, Options{Now: clk.Now})
	if err != nil {
		return err
	}
	defer s.Close()
	want := fixtureV1()
	ops := map[string]Operation{}
	for _, op := range want.Ops {
		ops[op.ID] = op
	}
	apps := map[string]App{}
	for _, a := range want.Apps {
		apps[a.ID] = a
	}
	at := func(m int) { clk.Set(t0.Add(time.Duration(m) * time.Minute)) }
	begin := func(id string) error {
		op := ops[id]
		op.State, op.Ended = OpRunning, time.Time{}
		return s.BeginOp(op)
	}
	finish := func(id string) error { return s.UpdateOp(ops[id]) }
	put := func(a App) error {
		a.Generation, a.Updated, a.Installed = 0, time.Time{}, time.Time{}
		return s.PutApp(a)
	}
	act := func(i int) error { _, err := s.AddActivity(want.Activity[i]); return err }
	nc, hello := apps["nextcloud"], apps["hello"]
	ncFirst := App{ID: nc.ID, CatalogID: nc.CatalogID, Version: "29.0.0", Manifest: nc.PreviousManifest,
		Settings: nc.PreviousSettings, Secrets: nc.Secrets, Wanted: WantRunning}
	helloRunning := hello
	helloRunning.Wanted = WantRunning
	steps := []func() error{
		func() error { at(0); return s.PutCatalog(want.Catalogs[1]) },
		func() error { return begin("01JN0000000000000000000001") },
		func() error { at(1); return put(ncFirst) },
		func() error { return finish("01JN0000000000000000000001") },
		func() error { return act(0) },
		func() error { at(2); return begin("01JN0000000000000000000002") },
		func() error { at(3); return put(nc) },
		func() error { return finish("01JN0000000000000000000002") },
		func() error { return act(1) },
		func() error { at(4); return begin("01JN0000000000000000000003") },
		func() error { return put(helloRunning) },
		func() error { at(5); return finish("01JN0000000000000000000003") },
		func() error { return act(2) },
		func() error { at(6); return put(hello) },
		func() error { return s.PutCatalog(want.Catalogs[0]) },
		func() error { return act(3) },
		func() error { at(7); return begin("01JN0000000000000000000004") },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
	}
	return nil
}

// TestFixtures opens a copy of every released schema's fixture, migrates it
// and reads back every record. With -update it writes the current schema's
// fixture when it is missing; it never rewrites one that exists, because a
// released schema's fixture is kept as it was, forever.
func TestFixtures(t *testing.T) {
	fixtures := []struct {
		schema int
		want   contents
	}{
		{1, fixtureV1()},
	}
	current := filepath.Join("testdata", fmt.Sprintf("schema-%d.db", CurrentSchema))
	if *update {
		if _, err := os.Stat(current); errors.Is(err, os.ErrNotExist) {
			if err := writeFixtureV1(current); err != nil {
				t.Fatalf("write %s: %v", current, err)
			}
			t.Logf("wrote %s", current)
		} else {
			t.Logf("%s exists: a fixture is never rewritten (delete it first if schema %d is unreleased)", current, CurrentSchema)
		}
	}
	if got, want := fixtures[len(fixtures)-1].schema, CurrentSchema; got != want {
		t.Errorf("got fixtures up to schema %d, want one for the current schema %d", got, want)
	}
	for _, f := range fixtures {
		t.Run(fmt.Sprintf("schema %d", f.schema), func(t *testing.T) {
			src := filepath.Join("testdata", fmt.Sprintf("schema-%d.db", f.schema))
			path := filepath.Join(t.TempDir(), "state.db")
			copyFile(t, src, path)
			if got := rawSchema(t, path); got != f.schema {
				t.Fatalf("got a fixture of schema %d in %s, want %d", got, src, f.schema)
			}
			s := openAt(t, path, Options{})
			if got := s.SchemaVersion(); got != CurrentSchema {
				t.Errorf("got schema %d, want %d", got, CurrentSchema)
			}
			if diff := cmp.Diff(f.want, readAll(t, s), equateEmpty); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			open, err := s.OpenOps()
			if err != nil || len(open) != 1 || open[0].App != "hello" {
				t.Errorf("got open operations %v (%v), want hello's start", open, err)
			}
		})
	}
}

// rawSchema reads a file's schema without the store.
func rawSchema(t *testing.T, path string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.View(func(tx *bolt.Tx) error { v, err = readSchema(tx); return err }); err != nil {
		t.Fatal(err)
	}
	return v
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatalf("%v (run go test ./agent/state -run TestFixtures -update to write the current schema's fixture)", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeSchema0 lays out the pre-release file: apps, ops, activity and
// catalogs with the same records, but no meta bucket and no opsByApp index.
func writeSchema0(t *testing.T, path string, c contents) {
	t.Helper()
	writeRaw(t, path, func(tx *bolt.Tx) error {
		put := func(bucket, key []byte, v any) error {
			b, err := tx.CreateBucketIfNotExists(bucket)
			if err != nil {
				return err
			}
			raw, err := json.Marshal(v)
			if err != nil {
				return err
			}
			return b.Put(key, raw)
		}
		for _, name := range [][]byte{bucketApps, bucketOps, bucketActivity, bucketCatalogs} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		for _, a := range c.Apps {
			if err := put(bucketApps, []byte(a.ID), a); err != nil {
				return err
			}
		}
		for _, op := range c.Ops {
			if err := put(bucketOps, []byte(op.ID), op); err != nil {
				return err
			}
		}
		for _, a := range c.Activity {
			if err := put(bucketActivity, seqKey(a.Seq), a); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketActivity).SetSequence(uint64(len(c.Activity))); err != nil {
			return err
		}
		for _, cat := range c.Catalogs {
			if err := put(bucketCatalogs, []byte(cat.ID), cat); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestSchema0MigratesTo1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	want := fixtureV1()
	writeSchema0(t, path, want)
	var logs strings.Builder
	s := openAt(t, path, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if got := s.SchemaVersion(); got != 1 {
		t.Errorf("got schema %d, want 1", got)
	}
	if diff := cmp.Diff(want, readAll(t, s), equateEmpty); diff != "" {
		t.Errorf("records after migrating (-want +got):\n%s", diff)
	}
	// The index the migration built keeps one operation open per app.
	err := s.BeginOp(testOp("01JN0000000000000000000009", "hello", KindStop))
	if !errors.Is(err, ErrBusy) {
		t.Errorf("got %v, want ErrBusy: hello's start is open", err)
	}
	if seq, err := s.AddActivity(Activity{Actor: "a", Action: "b", Outcome: "c"}); err != nil || seq != 5 {
		t.Errorf("got seq %d (%v), want 5, after the migrated entries", seq, err)
	}
	for _, want := range []string{"state file migrated", "from=0", "to=1", "component=state"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("got logs %q, want them to say %q", logs.String(), want)
		}
	}
	backup := path + ".schema0.bak"
	fi, err := os.Stat(backup)
	if err != nil {
		t.Fatalf("got %v, want a backup of the schema 0 file", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("got backup mode %v, want 0600", fi.Mode().Perm())
	}
	db, err := bolt.Open(backup, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) != nil || tx.Bucket(bucketApps) == nil {
			return errors.New("the backup is not the schema 0 file")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func TestSchemaTooNewIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	writeRaw(t, path, func(tx *bolt.Tx) error {
		if err := initialise(tx); err != nil {
			return err
		}
		return putSchema(tx, 99)
	})
	s, err := Open(path, Options{})
	if err == nil {
		s.Close()
		t.Fatal("got no error for a file from the future")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("got %v, want ErrSchemaTooNew", err)
	}
	for _, want := range []string{"schema 99", fmt.Sprintf("up to %d", CurrentSchema), path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to say %q", err, want)
		}
	}
	// The refusal left the file alone: it opens again, and is refused again.
	if _, err := Open(path, Options{Timeout: 100 * time.Millisecond}); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("second open: got %v, want ErrSchemaTooNew again", err)
	}
}

func TestMigrateRunsEachStepInItsOwnTransaction(t *testing.T) {
	mark := func(name string) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			_, err := tx.CreateBucket([]byte(name))
			return err
		}
	}
	failing := func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucket([]byte("half")); err != nil {
			return err
		}
		return errors.New("boom")
	}
	cases := []struct {
		name        string
		from        int
		list        []migration
		wantErr     string
		wantSchema  int
		wantBuckets []string
	}{
		{"all steps", 0, []migration{{"a", mark("a")}, {"b", mark("b")}, {"c", mark("c")}}, "", 3, []string{"a", "b", "c", "meta"}},
		{"from the middle", 1, []migration{{"a", mark("a")}, {"b", mark("b")}, {"c", mark("c")}}, "", 3, []string{"b", "c", "meta"}},
		{"nothing to do", 3, []migration{{"a", mark("a")}, {"b", mark("b")}, {"c", mark("c")}}, "", 0, nil},
		{"a step fails", 0, []migration{{"a", mark("a")}, {"b", failing}, {"c", mark("c")}}, "migrate schema 1 to 2 (b): boom", 1, []string{"a", "meta"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, err := bolt.Open(filepath.Join(t.TempDir(), "m.db"), 0o600, &bolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			err = migrate(db, slog.New(slog.DiscardHandler), c.from, c.list)
			if got := fmt.Sprint(err); (c.wantErr == "") != (err == nil) || err != nil && !strings.Contains(got, c.wantErr) {
				t.Errorf("got error %v, want %q", err, c.wantErr)
			}
			var gotSchema int
			var gotBuckets []string
			err = db.View(func(tx *bolt.Tx) error {
				if tx.Bucket(bucketMeta) != nil {
					var err error
					if gotSchema, err = readSchema(tx); err != nil {
						return err
					}
				}
				return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
					gotBuckets = append(gotBuckets, string(name))
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if gotSchema != c.wantSchema {
				t.Errorf("got schema %d, want %d", gotSchema, c.wantSchema)
			}
			if diff := cmp.Diff(c.wantBuckets, gotBuckets); diff != "" {
				t.Errorf("buckets (-want +got):\n%s", diff)
			}
		})
	}
}
