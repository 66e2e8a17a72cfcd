package state

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Buckets added to schema 1 without a migration (see addBuckets).
var (
	bucketUsers    = []byte("users")
	bucketSessions = []byte("sessions")
	bucketSetup    = []byte("setup")
)

// addedBuckets lists the buckets added to schema 1 after its release, one
// line each: Open creates them in a file that lacks them (addBuckets).
func addedBuckets() [][]byte {
	return [][]byte{
		bucketUsers,
		bucketSessions,
		bucketSetup,
		bucketBackups,
		bucketReach,
		bucketNotices,
		bucketAddons,
	}
}

// addBuckets creates the buckets of addedBuckets() that a file lacks. A new, empty bucket is an additive change that needs no schema
// step: the records in it are new, nothing old is rewritten, and an older
// hearthd that opens the file ignores buckets it does not know (verify
// checks only its own). It writes nothing when no bucket is missing.
func addBuckets(db *bolt.DB) error {
	var missing [][]byte
	if err := db.View(func(tx *bolt.Tx) error {
		for _, name := range addedBuckets() {
			if tx.Bucket(name) == nil {
				missing = append(missing, name)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	return db.Update(func(tx *bolt.Tx) error {
		for _, name := range missing {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	})
}
