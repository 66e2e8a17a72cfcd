package state

import (
	"bytes"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// maxVerifyErrors bounds how many problems verify reports.
const maxVerifyErrors = 10

// verify reads every record of a file at CurrentSchema and checks that it
// decodes and sits under its own key. It touches every page a reader can
// reach, so a damaged file fails here, at Open, and not later.
func verify(tx *bolt.Tx) error {
	var errs []error
	add := func(format string, args ...any) {
		if len(errs) < maxVerifyErrors {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	for _, name := range buckets() {
		if tx.Bucket(name) == nil {
			add("bucket %s is missing", name)
		}
	}
	if len(errs) == 0 {
		checkRecords(tx, bucketApps, add, func(a *App) string { return a.ID })
		checkRecords(tx, bucketOps, add, func(op *Operation) string { return op.ID })
		checkRecords(tx, bucketCatalogs, add, func(c *CatalogRecord) string { return c.ID })
		checkRecords(tx, bucketActivity, add, func(a *Activity) string { return string(seqKey(a.Seq)) })
		checkRecords(tx, bucketUsers, add, func(u *User) string { return u.Name })
		checkRecords(tx, bucketSessions, add, func(s *Session) string { return s.Hash })
		checkRecords(tx, bucketSetup, add, func(*Setup) string { return string(setupKey) })
		checkBackupRecords(tx, add)
		ops := tx.Bucket(bucketOps)
		_ = tx.Bucket(bucketOpsByApp).ForEach(func(k, _ []byte) error {
			app, id, _ := bytes.Cut(k, []byte("/"))
			var op Operation
			if raw := ops.Get(id); raw == nil || decodeStrict(raw, &op) != nil || op.App != string(app) {
				add("opsByApp/%s: names no operation of app %q", k, app)
			}
			return nil
		})
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", errors.Join(errs...), ErrCorrupt)
	}
	return nil
}

// checkRecords decodes every record of a bucket and checks that id(record)
// is its key.
func checkRecords[T any](tx *bolt.Tx, bucket []byte, add func(string, ...any), id func(*T) string) {
	_ = tx.Bucket(bucket).ForEach(func(k, v []byte) error {
		var r T
		if err := decodeStrict(v, &r); err != nil {
			add("%s/%s: %v", bucket, printable(k), err)
		} else if got := id(&r); got != string(k) {
			add("%s/%s: holds the record of %s", bucket, printable(k), printable([]byte(got)))
		}
		return nil
	})
}

// printable shows a key: as text when it is, in hex otherwise.
func printable(k []byte) string {
	for _, c := range k {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%x", k)
		}
	}
	return string(k)
}
