package state

import "errors"

// Sentinel errors of the store; match them with errors.Is.
var (
	// ErrNotFound: no record with that id.
	ErrNotFound = errors.New("not found")
	// ErrExists: a record with that id already exists.
	ErrExists = errors.New("already exists")
	// ErrBusy: the app already has an open operation.
	ErrBusy = errors.New("app has an operation in progress")
	// ErrInvalid: a record or argument failed validation; the error names the
	// field (see FieldError).
	ErrInvalid = errors.New("invalid")
	// ErrLocked: another process holds the state file.
	ErrLocked = errors.New("state file is locked by another process")
	// ErrSchemaTooNew: the file was written by a newer Hearth.
	ErrSchemaTooNew = errors.New("state file schema is newer than this program knows")
	// ErrCorrupt: the file is not a readable state file.
	ErrCorrupt = errors.New("state file is corrupt")
	// ErrClosed: the store is closed.
	ErrClosed = errors.New("state store is closed")
	// ErrReadOnly: a write was attempted in a read-only transaction.
	ErrReadOnly = errors.New("read-only transaction")
	// ErrTxDone: a Tx was used after its function returned.
	ErrTxDone = errors.New("transaction is finished")
)

// FieldError names the field of a record that is wrong and why, as a JSON
// path: "steps[2].state: ...". Every FieldError matches ErrInvalid.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Is makes every FieldError match ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }
