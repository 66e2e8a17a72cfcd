package state

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Defaults of Options.
const (
	DefaultTimeout       = 2 * time.Second
	DefaultActivityLimit = 10000
	DefaultOpsPerApp     = 100
)

// fileMode is the state file's mode: it holds secrets.
const fileMode fs.FileMode = 0o600

// Options configure Open. The zero value is valid.
type Options struct {
	// Timeout is how long Open waits for another process to release the
	// file before it fails with ErrLocked (default DefaultTimeout).
	Timeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives the store's few messages (nil: discarded).
	Logger *slog.Logger
	// ActivityLimit is how many activity entries are kept (default
	// DefaultActivityLimit).
	ActivityLimit int
	// OpsPerApp is how many operations are kept per app, the newest ones
	// (default DefaultOpsPerApp).
	OpsPerApp int
}

// Store is the agent's state file. Its methods are safe for concurrent use:
// bbolt allows one writer and many readers at a time.
type Store struct {
	db            *bolt.DB
	path          string
	now           func() time.Time
	log           *slog.Logger
	activityLimit int
	opsPerApp     int
	schema        int           // set by Open, read-only afterwards
	watch         chan struct{} // capacity 1, never closed

	idMu   sync.Mutex // guards lastID: NewOpID is monotonic
	lastID opID
}

// Open opens the state file at path, creating it with mode 0600 when it does
// not exist, migrates it to CurrentSchema and checks that every record in it
// reads back. It fails with ErrLocked when another process holds the file
// for longer than Options.Timeout, with ErrSchemaTooNew when the file was
// written by a newer program, and with ErrCorrupt when it is not a readable
// state file. The folder holding path must exist.
func Open(path string, opts Options) (*Store, error) {
	var errs []error
	if path == "" {
		errs = append(errs, &FieldError{Field: "path", Reason: "must not be empty"})
	}
	if opts.Timeout < 0 {
		errs = append(errs, &FieldError{Field: "timeout", Reason: "must not be negative"})
	}
	if opts.ActivityLimit < 0 {
		errs = append(errs, &FieldError{Field: "activityLimit", Reason: "must not be negative"})
	}
	if opts.OpsPerApp < 0 {
		errs = append(errs, &FieldError{Field: "opsPerApp", Reason: "must not be negative"})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &Store{
		path:          path,
		now:           opts.Now,
		log:           opts.Logger,
		activityLimit: opts.ActivityLimit,
		opsPerApp:     opts.OpsPerApp,
		watch:         make(chan struct{}, 1),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "state")
	if s.activityLimit == 0 {
		s.activityLimit = DefaultActivityLimit
	}
	if s.opsPerApp == 0 {
		s.opsPerApp = DefaultOpsPerApp
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if err := s.open(timeout); err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) open(timeout time.Duration) error {
	// A symbolic link is refused too: root's writes go where the path says.
	if fi, err := os.Lstat(s.path); err == nil && !fi.Mode().IsRegular() {
		return &FieldError{Field: "path", Reason: "is not a regular file (a folder, a link or a device)"}
	}
	var db *bolt.DB
	err := guard(func() error {
		var err error
		db, err = bolt.Open(s.path, fileMode, &bolt.Options{Timeout: timeout})
		return err
	})
	var pathErr *fs.PathError
	switch {
	case err == nil:
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("waited %s: %w", timeout, ErrLocked)
	case errors.Is(err, ErrCorrupt), errors.As(err, &pathErr):
		return err
	default:
		return fmt.Errorf("%w: %w", err, ErrCorrupt)
	}
	s.db = db
	if err := s.restrictMode(); err != nil {
		_ = db.Close()
		return err
	}
	if err := guard(s.prepare); err != nil {
		_ = db.Close()
		return err
	}
	return nil
}

// restrictMode makes an existing file that others may read 0600.
func (s *Store) restrictMode() error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return err
	}
	if fi.Mode().Perm() == fileMode {
		return nil
	}
	if err := os.Chmod(s.path, fileMode); err != nil {
		return err
	}
	s.log.Warn("state file mode restricted", "path", s.path, "was", fi.Mode().Perm().String())
	return nil
}

// guard runs fn, turning a panic or a memory fault inside bbolt (what a
// damaged file causes) into ErrCorrupt. A panic inside bolt.Open itself
// leaves that file's lock and mapping held until the process exits: bbolt
// gives back no handle to release them.
func guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v: %w", r, ErrCorrupt)
		}
	}()
	return fn()
}

// Close closes the file, waiting for transactions in progress.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close state file %s: %w", s.path, err)
	}
	return nil
}

// Path is the state file's path.
func (s *Store) Path() string { return s.path }

// SchemaVersion is the schema of the open file: always CurrentSchema once
// Open has succeeded.
func (s *Store) SchemaVersion() int { return s.schema }

// Watch returns the store's signal channel (capacity 1), which receives a
// value after every committed write. Signals coalesce: one receive may stand
// for many writes. There is one channel per Store, meant for one consumer
// (the reconcile loop); it is never closed.
func (s *Store) Watch() <-chan struct{} { return s.watch }

func (s *Store) poke() {
	select {
	case s.watch <- struct{}{}:
	default:
	}
}

// View runs fn in a read-only transaction: every read in it sees the same
// snapshot. Writes in it fail with ErrReadOnly.
func (s *Store) View(fn func(tx *Tx) error) error {
	err := s.db.View(func(btx *bolt.Tx) error {
		tx := &Tx{s: s, btx: btx}
		defer tx.finish()
		return fn(tx)
	})
	return closedErr(err)
}

// Update runs fn in a read-write transaction: all its writes are committed
// together when it returns nil, none when it returns an error. When fn wrote
// nothing that changed a record, nothing is written to the file and Watch is
// not signalled.
func (s *Store) Update(fn func(tx *Tx) error) error {
	btx, err := s.db.Begin(true)
	if err != nil {
		return closedErr(err)
	}
	tx := &Tx{s: s, btx: btx}
	defer func() {
		tx.finish()
		_ = btx.Rollback() // a no-op after Commit
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if !tx.changed {
		return nil
	}
	if err := btx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.poke()
	return nil
}

func closedErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}
