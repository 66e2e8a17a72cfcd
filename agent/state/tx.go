package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// Bucket names (see the tree in the package comment).
var (
	bucketMeta     = []byte("meta")
	bucketApps     = []byte("apps")
	bucketOps      = []byte("ops")
	bucketOpsByApp = []byte("opsByApp")
	bucketActivity = []byte("activity")
	bucketCatalogs = []byte("catalogs")
)

// buckets lists every bucket of the current schema.
func buckets() [][]byte {
	return append([][]byte{bucketMeta, bucketApps, bucketOps, bucketOpsByApp, bucketActivity, bucketCatalogs}, addedBuckets()...)
}

// Tx is one transaction of the store, handed to the function given to
// Store.View or Store.Update; it is valid only until that function returns.
// Its methods are those of Store, and see or make their changes together.
type Tx struct {
	s       *Store
	btx     *bolt.Tx // nil once the function has returned
	changed bool     // a record was written or deleted
}

func (tx *Tx) finish() { tx.btx = nil }

// bucket returns the named bucket of a live transaction.
func (tx *Tx) bucket(name []byte) (*bolt.Bucket, error) {
	if tx.btx == nil {
		return nil, ErrTxDone
	}
	b := tx.btx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("bucket %s is missing: %w", name, ErrCorrupt)
	}
	return b, nil
}

// writable checks that tx may write.
func (tx *Tx) writable() error {
	if tx.btx == nil {
		return ErrTxDone
	}
	if !tx.btx.Writable() {
		return ErrReadOnly
	}
	return nil
}

// get decodes the record at bucket/key into v and reports whether there is
// one.
func (tx *Tx) get(bucket, key []byte, v any) (bool, error) {
	b, err := tx.bucket(bucket)
	if err != nil {
		return false, err
	}
	raw := b.Get(key)
	if raw == nil {
		return false, nil
	}
	if err := decode(raw, v); err != nil {
		return false, fmt.Errorf("%s/%s: %w", bucket, key, err)
	}
	return true, nil
}

// put writes v at bucket/key unless the stored bytes are the same.
func (tx *Tx) put(bucket, key []byte, v any) error {
	b, err := tx.bucket(bucket)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", bucket, key, err)
	}
	if old := b.Get(key); old != nil && bytes.Equal(old, raw) {
		return nil
	}
	if err := b.Put(key, raw); err != nil {
		return fmt.Errorf("put %s/%s: %w", bucket, key, err)
	}
	tx.changed = true
	return nil
}

// same reports whether v encodes to the bytes stored at bucket/key.
func (tx *Tx) same(bucket, key []byte, v any) (bool, error) {
	b, err := tx.bucket(bucket)
	if err != nil {
		return false, err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return false, fmt.Errorf("encode %s/%s: %w", bucket, key, err)
	}
	old := b.Get(key)
	return old != nil && bytes.Equal(old, raw), nil
}

// del deletes bucket/key, reporting whether it was there.
func (tx *Tx) del(bucket, key []byte) (bool, error) {
	b, err := tx.bucket(bucket)
	if err != nil {
		return false, err
	}
	if b.Get(key) == nil {
		return false, nil
	}
	if err := b.Delete(key); err != nil {
		return false, fmt.Errorf("delete %s/%s: %w", bucket, key, err)
	}
	tx.changed = true
	return true, nil
}

// decode is strict: an unknown field or trailing data is an error, so a
// damaged or foreign record is caught rather than read half.
func decode(raw []byte, v any) error {
	if err := decodeStrict(raw, v); err != nil {
		return fmt.Errorf("%w: %w", err, ErrCorrupt)
	}
	return nil
}

func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("decode: trailing data")
	}
	return nil
}
