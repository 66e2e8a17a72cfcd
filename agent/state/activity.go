package state

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// AddActivity appends an entry to the activity log and returns its
// sequence number. The store sets Seq, and Time when it is zero; Detail is
// cut to MaxText bytes. Entries older than the newest Options.ActivityLimit
// are deleted.
func (tx *Tx) AddActivity(a Activity) (uint64, error) {
	if err := tx.writable(); err != nil {
		return 0, err
	}
	if err := validateActivity(a); err != nil {
		return 0, err
	}
	b, err := tx.bucket(bucketActivity)
	if err != nil {
		return 0, err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("activity sequence: %w", err)
	}
	a.Seq = seq
	if a.Time.IsZero() {
		a.Time = tx.s.clock()
	}
	a.Detail = truncate(a.Detail)
	if err := tx.put(bucketActivity, seqKey(seq), a); err != nil {
		return 0, err
	}
	return seq, tx.trimActivity(seq)
}

// trimActivity deletes the entries at or below seq-limit.
func (tx *Tx) trimActivity(seq uint64) error {
	limit := uint64(tx.s.activityLimit)
	if seq <= limit {
		return nil
	}
	cutoff := seqKey(seq - limit)
	b, err := tx.bucket(bucketActivity)
	if err != nil {
		return err
	}
	var old [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, cutoff) <= 0; k, _ = c.Next() {
		old = append(old, bytes.Clone(k))
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("delete activity/%x: %w", k, err)
		}
	}
	return nil
}

// Activity returns the entries after since, oldest first, at most limit
// of them (all when limit <= 0). Since 0 starts at the oldest kept.
func (tx *Tx) Activity(since uint64, limit int) ([]Activity, error) {
	b, err := tx.bucket(bucketActivity)
	if err != nil {
		return nil, err
	}
	if since == math.MaxUint64 {
		return nil, nil
	}
	var out []Activity
	c := b.Cursor()
	for k, v := c.Seek(seqKey(since + 1)); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
		var a Activity
		if err := decode(v, &a); err != nil {
			return nil, fmt.Errorf("activity/%x: %w", k, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// RecentActivity returns the newest limit entries (all when limit <= 0),
// oldest first.
func (tx *Tx) RecentActivity(limit int) ([]Activity, error) {
	b, err := tx.bucket(bucketActivity)
	if err != nil {
		return nil, err
	}
	var out []Activity
	c := b.Cursor()
	for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
		var a Activity
		if err := decode(v, &a); err != nil {
			return nil, fmt.Errorf("activity/%x: %w", k, err)
		}
		out = append(out, a)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// AddActivity is Tx.AddActivity in a transaction of its own.
func (s *Store) AddActivity(a Activity) (uint64, error) {
	var seq uint64
	err := s.Update(func(tx *Tx) error {
		var err error
		seq, err = tx.AddActivity(a)
		return err
	})
	return seq, err
}

// Activity returns the entries after since, oldest first, at most limit
// of them (all when limit <= 0).
func (s *Store) Activity(since uint64, limit int) ([]Activity, error) {
	var out []Activity
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Activity(since, limit)
		return err
	})
	return out, err
}

// RecentActivity returns the newest limit entries (all when limit <= 0),
// oldest first.
func (s *Store) RecentActivity(limit int) ([]Activity, error) {
	var out []Activity
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.RecentActivity(limit)
		return err
	})
	return out, err
}
