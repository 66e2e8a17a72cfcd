package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// CurrentSchema is the schema version this code reads and writes. Every
// released schema keeps a fixture in testdata/ forever (see docs/state.md).
const CurrentSchema = 1

var schemaKey = []byte("schema")

// A migration turns a file of schema N into one of schema N+1, where N is
// its index in the list. It runs in a transaction of its own, which also
// records the new version.
type migration struct {
	name  string
	apply func(tx *bolt.Tx) error
}

// migrations lists every migration, in order: migrations()[N] takes schema
// N to N+1, and len(migrations()) == CurrentSchema.
func migrations() []migration {
	return []migration{
		{name: "add meta and the opsByApp index", apply: migrate0to1},
	}
}

// migrate0to1 upgrades the pre-release layout, which had apps, ops,
// activity and catalogs but neither meta nor the opsByApp index.
func migrate0to1(tx *bolt.Tx) error {
	for _, name := range buckets() {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	idx := tx.Bucket(bucketOpsByApp)
	return tx.Bucket(bucketOps).ForEach(func(k, v []byte) error {
		var op struct{ ID, App string }
		if err := json.Unmarshal(v, &op); err != nil || op.ID != string(k) || !isSlug(op.App) {
			return fmt.Errorf("ops/%s: not an operation: %w", k, ErrCorrupt)
		}
		return idx.Put(opKey(op.App, op.ID), nil)
	})
}

// prepare brings an open file to CurrentSchema: it initialises a new file,
// reads the schema of an old one, refuses a newer one, migrates, and checks
// every record.
func (s *Store) prepare() error {
	var fresh bool
	var version int
	err := s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Cursor().First()
		fresh = k == nil
		var err error
		version, err = readSchema(tx)
		return err
	})
	if err != nil {
		return err
	}
	switch {
	case fresh:
		if err := s.db.Update(initialise); err != nil {
			return fmt.Errorf("initialise: %w", err)
		}
		s.log.Info("state file created", "path", s.path, "schema", CurrentSchema)
	case version > CurrentSchema:
		return fmt.Errorf("file has schema %d, this program knows up to %d: %w", version, CurrentSchema, ErrSchemaTooNew)
	case version < CurrentSchema:
		if err := s.backup(version); err != nil {
			return err
		}
		if err := migrate(s.db, s.log, version, migrations()); err != nil {
			return err
		}
	}
	if err := addBuckets(s.db); err != nil {
		return err
	}
	if err := s.db.View(verify); err != nil {
		return err
	}
	s.schema = CurrentSchema
	return nil
}

// initialise lays out a new file at CurrentSchema.
func initialise(tx *bolt.Tx) error {
	for _, name := range buckets() {
		if _, err := tx.CreateBucket(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return putSchema(tx, CurrentSchema)
}

// readSchema returns the file's schema: 0 when there is no meta bucket.
func readSchema(tx *bolt.Tx) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0, nil
	}
	raw := meta.Get(schemaKey)
	v, err := strconv.Atoi(string(raw))
	if err != nil || v < 1 {
		return 0, fmt.Errorf("meta/schema is %q, not a schema version: %w", raw, ErrCorrupt)
	}
	return v, nil
}

func putSchema(tx *bolt.Tx, v int) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return fmt.Errorf("create bucket meta: %w", err)
	}
	return meta.Put(schemaKey, []byte(strconv.Itoa(v)))
}

// migrate runs list[from:] in order, each migration and the new version it
// records in one transaction, so a failure leaves the file at the last
// version that completed.
func migrate(db *bolt.DB, log *slog.Logger, from int, list []migration) error {
	for v := from; v < len(list); v++ {
		m := list[v]
		err := db.Update(func(tx *bolt.Tx) error {
			if err := m.apply(tx); err != nil {
				return err
			}
			return putSchema(tx, v+1)
		})
		if err != nil {
			return fmt.Errorf("migrate schema %d to %d (%s): %w", v, v+1, m.name, err)
		}
		log.Info("state file migrated", "from", v, "to", v+1, "migration", m.name)
	}
	return nil
}

// backup copies the file, as it is before migrating, to
// <path>.schema<N>.bak (mode 0600: it holds the same secrets).
func (s *Store) backup(version int) error {
	path := fmt.Sprintf("%s.schema%d.bak", s.path, version)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("back up before migrating: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return fmt.Errorf("back up before migrating: %w", err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(f)
		return err
	})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("back up before migrating to %s: %w", path, err)
	}
	s.log.Info("state file backed up before migrating", "backup", path, "schema", version)
	return nil
}
