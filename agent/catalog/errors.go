package catalog

import "errors"

// Reasons a catalog is refused. Verify, Manager.Load and Manager.Refresh
// return errors that match exactly one of the first four with errors.Is.
var (
	// ErrBadSignature: the envelope is malformed, or no key of the trust
	// set signed these exact payload bytes (tampering, unknown key).
	ErrBadSignature = errors.New("bad catalog signature")
	// ErrRollback: the catalog is older than the one the box holds, or as
	// old but different.
	ErrRollback = errors.New("catalog rollback")
	// ErrExpired: the catalog is past its expiry time (a freeze attack, or
	// a publisher that stopped publishing).
	ErrExpired = errors.New("catalog expired")
	// ErrMalformed: the payload is signed but its content is invalid. The
	// error names the app and the field (see FieldError).
	ErrMalformed = errors.New("malformed catalog")
)

// Other errors of the package.
var (
	// ErrFetch: the catalog could not be downloaded (network, HTTP status,
	// size limit, timeout).
	ErrFetch = errors.New("catalog fetch failed")
	// ErrInvalidSource: a Source, Trust or BuildMeta given by the caller is
	// invalid; the error names the field.
	ErrInvalidSource = errors.New("invalid catalog source")
	// ErrInvalidKey: key material (a key file, a public key, a keys.json
	// file) is not a valid ed25519 key.
	ErrInvalidKey = errors.New("invalid key")
	// ErrKeyFileMode: a private key file can be read by its group or by
	// others, or is not a regular file.
	ErrKeyFileMode = errors.New("private key file is not private")
	// ErrBuild: the catalog source tree given to Build is invalid; the
	// error names every bad file.
	ErrBuild = errors.New("invalid catalog source tree")
)

// FieldError is one problem in a signed payload: the app (when the problem is
// inside one), the JSON path of the field and the reason. It matches
// ErrMalformed.
type FieldError struct {
	App    string
	Path   string
	Reason string
}

func (e *FieldError) Error() string {
	if e.App == "" {
		return e.Path + ": " + e.Reason
	}
	return "app " + e.App + ": " + e.Path + ": " + e.Reason
}

// Is makes every FieldError match ErrMalformed.
func (e *FieldError) Is(target error) bool { return target == ErrMalformed }
