package state

import (
	"bytes"
	"fmt"
)

// opKey is the opsByApp key of an operation: app ids hold no '/'.
func opKey(app, id string) []byte { return []byte(app + "/" + id) }

// lastOpID returns the id of the app's newest operation, or "".
func (tx *Tx) lastOpID(app string) (string, error) {
	b, err := tx.bucket(bucketOpsByApp)
	if err != nil {
		return "", err
	}
	prefix := []byte(app + "/")
	c := b.Cursor()
	// The key after every key of the app: '/'+1 is '0'.
	k, _ := c.Seek([]byte(app + "0"))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return "", nil
	}
	return string(k[len(prefix):]), nil
}

// appOpIDs returns the ids of the app's operations, oldest first.
func (tx *Tx) appOpIDs(app string) ([]string, error) {
	b, err := tx.bucket(bucketOpsByApp)
	if err != nil {
		return nil, err
	}
	prefix := []byte(app + "/")
	var ids []string
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, string(k[len(prefix):]))
	}
	return ids, nil
}

// BeginOp records a new open operation. Its State must be OpRunning (or
// empty, meaning OpRunning), its id must sort after every earlier operation
// of the app (NewOpID makes such ids), and Started is set when zero. It
// fails with ErrBusy when the app has an open operation and ErrExists when
// the id is taken. The app's oldest operations beyond Options.OpsPerApp are
// deleted.
func (tx *Tx) BeginOp(op Operation) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if op.State == "" {
		op.State = OpRunning
	}
	if err := validateOp(op); err != nil {
		return err
	}
	if op.State != OpRunning {
		return &FieldError{Field: "state", Reason: fmt.Sprintf("a new operation must be %s, not %s", OpRunning, op.State)}
	}
	if !op.Ended.IsZero() {
		return &FieldError{Field: "ended", Reason: "a new operation has not ended"}
	}
	if _, err := tx.Op(op.ID); err == nil {
		return fmt.Errorf("operation %s: %w", op.ID, ErrExists)
	} else if !isNotFound(err) {
		return err
	}
	lastID, err := tx.lastOpID(op.App)
	if err != nil {
		return err
	}
	if lastID != "" {
		last, err := tx.Op(lastID)
		if err != nil {
			return err
		}
		if last.State == OpRunning {
			return fmt.Errorf("app %q: operation %s (%s) is running: %w", op.App, last.ID, last.Kind, ErrBusy)
		}
		if op.ID <= lastID {
			return &FieldError{Field: "id", Reason: fmt.Sprintf("%q must sort after the app's last operation %q", op.ID, lastID)}
		}
	}
	if op.Started.IsZero() {
		op.Started = tx.s.clock()
	}
	if err := tx.put(bucketOps, []byte(op.ID), truncateOp(op)); err != nil {
		return err
	}
	b, err := tx.bucket(bucketOpsByApp)
	if err != nil {
		return err
	}
	if err := b.Put(opKey(op.App, op.ID), nil); err != nil {
		return fmt.Errorf("put opsByApp/%s/%s: %w", op.App, op.ID, err)
	}
	return tx.pruneOps(op.App)
}

// pruneOps deletes the app's oldest operations beyond opsPerApp. Only the
// newest operation can be open, so only finished ones go.
func (tx *Tx) pruneOps(app string) error {
	ids, err := tx.appOpIDs(app)
	if err != nil || len(ids) <= tx.s.opsPerApp {
		return err
	}
	idx, err := tx.bucket(bucketOpsByApp)
	if err != nil {
		return err
	}
	for _, id := range ids[:len(ids)-tx.s.opsPerApp] {
		if _, err := tx.del(bucketOps, []byte(id)); err != nil {
			return err
		}
		if err := idx.Delete(opKey(app, id)); err != nil {
			return fmt.Errorf("delete opsByApp/%s/%s: %w", app, id, err)
		}
	}
	return nil
}

// UpdateOp replaces a recorded operation, typically with its steps and
// state advanced. App, Kind and Actor cannot change, Started is kept when
// zero, and a finished operation cannot change at all. Ended is set when
// the operation finishes and it is zero. Nothing is written when nothing
// changed.
func (tx *Tx) UpdateOp(op Operation) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if err := validateOp(op); err != nil {
		return err
	}
	old, err := tx.Op(op.ID)
	if err != nil {
		return err
	}
	if old.State != OpRunning {
		return &FieldError{Field: "state", Reason: fmt.Sprintf("operation %s is %s: a finished operation does not change", op.ID, old.State)}
	}
	for _, f := range []struct{ name, was, is string }{
		{"app", old.App, op.App}, {"kind", old.Kind, op.Kind}, {"actor", old.Actor, op.Actor},
	} {
		if f.was != f.is {
			return &FieldError{Field: f.name, Reason: fmt.Sprintf("cannot change from %q to %q", f.was, f.is)}
		}
	}
	if op.Started.IsZero() {
		op.Started = old.Started
	}
	if op.State == OpRunning && !op.Ended.IsZero() {
		return &FieldError{Field: "ended", Reason: "a running operation has not ended"}
	}
	op = truncateOp(op)
	if op.State != OpRunning && op.Ended.IsZero() {
		op.Ended = tx.s.clock()
	}
	return tx.put(bucketOps, []byte(op.ID), op)
}

// Op returns the operation with that id, or ErrNotFound.
func (tx *Tx) Op(id string) (Operation, error) {
	if err := checkOpID("id", id); err != nil {
		return Operation{}, err
	}
	var op Operation
	ok, err := tx.get(bucketOps, []byte(id), &op)
	if err != nil {
		return Operation{}, err
	}
	if !ok {
		return Operation{}, fmt.Errorf("operation %s: %w", id, ErrNotFound)
	}
	return op, nil
}

// OpenOps returns every open operation (at most one per app), ordered by
// app: what the agent resumes or rolls back after a restart.
func (tx *Tx) OpenOps() ([]Operation, error) {
	b, err := tx.bucket(bucketOpsByApp)
	if err != nil {
		return nil, err
	}
	// The newest key of each app is its last operation.
	var lasts []string
	var prevApp []byte
	err = b.ForEach(func(k, _ []byte) error {
		app, id, ok := bytes.Cut(k, []byte("/"))
		if !ok {
			return fmt.Errorf("opsByApp/%s: key without '/': %w", k, ErrCorrupt)
		}
		if bytes.Equal(app, prevApp) {
			lasts[len(lasts)-1] = string(id)
		} else {
			lasts = append(lasts, string(id))
			prevApp = append(prevApp[:0], app...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var open []Operation
	for _, id := range lasts {
		op, err := tx.Op(id)
		if err != nil {
			return nil, err
		}
		if op.State == OpRunning {
			open = append(open, op)
		}
	}
	return open, nil
}

// Ops returns the app's operations, newest first, at most limit of them
// (all when limit <= 0).
func (tx *Tx) Ops(app string, limit int) ([]Operation, error) {
	if err := checkSlug("app", app); err != nil {
		return nil, err
	}
	ids, err := tx.appOpIDs(app)
	if err != nil {
		return nil, err
	}
	var ops []Operation
	for i := len(ids) - 1; i >= 0 && (limit <= 0 || len(ops) < limit); i-- {
		op, err := tx.Op(ids[i])
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// BeginOp is Tx.BeginOp in a transaction of its own.
func (s *Store) BeginOp(op Operation) error {
	return s.Update(func(tx *Tx) error { return tx.BeginOp(op) })
}

// UpdateOp is Tx.UpdateOp in a transaction of its own.
func (s *Store) UpdateOp(op Operation) error {
	return s.Update(func(tx *Tx) error { return tx.UpdateOp(op) })
}

// Op returns the operation with that id, or ErrNotFound.
func (s *Store) Op(id string) (Operation, error) {
	var op Operation
	err := s.View(func(tx *Tx) error {
		var err error
		op, err = tx.Op(id)
		return err
	})
	return op, err
}

// OpenOps returns every open operation, ordered by app.
func (s *Store) OpenOps() ([]Operation, error) {
	var ops []Operation
	err := s.View(func(tx *Tx) error {
		var err error
		ops, err = tx.OpenOps()
		return err
	})
	return ops, err
}

// Ops returns the app's operations, newest first, at most limit of them
// (all when limit <= 0).
func (s *Store) Ops(app string, limit int) ([]Operation, error) {
	var ops []Operation
	err := s.View(func(tx *Tx) error {
		var err error
		ops, err = tx.Ops(app, limit)
		return err
	})
	return ops, err
}
