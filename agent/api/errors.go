package api

import (
	"errors"
	"net/http"
)

// Errors the API adds to those a Service returns (see types.go).
var (
	// ErrForbidden answers a peer that is not root (403). The socket is
	// already root-only; this is the second lock.
	ErrForbidden = errors.New("forbidden")
	// ErrUnreachable is what a Client returns when it cannot connect to
	// the socket at all (hearthd not running, wrong path).
	ErrUnreachable = errors.New("cannot reach hearthd")
)

// Error codes of an ErrorResponse, one per sentinel.
const (
	CodeNotFound     = "not_found"
	CodeInvalid      = "invalid"
	CodeBusy         = "busy"
	CodeRefused      = "refused"
	CodeUnavailable  = "unavailable"
	CodeForbidden    = "forbidden"
	CodeInternal     = "internal"
	CodeUnauthorized = "unauthorized"
	CodeGone         = "gone"
	CodeTooMany      = "too_many"
)

// ErrorResponse is the body of every error answer, and the data of an SSE
// "error" event.
type ErrorResponse struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// wireErrors lists each sentinel with its code and HTTP status, in the order
// errors.Is tries them.
var wireErrors = []struct {
	err    error
	code   string
	status int
}{
	{ErrNotFound, CodeNotFound, http.StatusNotFound},
	{ErrInvalid, CodeInvalid, http.StatusBadRequest},
	{ErrBusy, CodeBusy, http.StatusConflict},
	{ErrRefused, CodeRefused, http.StatusUnprocessableEntity},
	{ErrUnavailable, CodeUnavailable, http.StatusServiceUnavailable},
	{ErrForbidden, CodeForbidden, http.StatusForbidden},
	{ErrUnauthorized, CodeUnauthorized, http.StatusUnauthorized},
	{ErrGone, CodeGone, http.StatusGone},
	{ErrTooMany, CodeTooMany, http.StatusTooManyRequests},
}

// classify returns the code and status an error is answered with.
func classify(err error) (code string, status int) {
	for _, w := range wireErrors {
		if errors.Is(err, w.err) {
			return w.code, w.status
		}
	}
	return CodeInternal, http.StatusInternalServerError
}

// sentinelFor returns the sentinel of a code, or nil for internal and
// unknown codes.
func sentinelFor(code string) error {
	for _, w := range wireErrors {
		if w.code == code {
			return w.err
		}
	}
	return nil
}

// codeForStatus guesses a code from an HTTP status, for answers that carry
// no ErrorResponse (a proxy, a crash before the handler).
func codeForStatus(status int) string {
	for _, w := range wireErrors {
		if w.status == status {
			return w.code
		}
	}
	if status == http.StatusRequestEntityTooLarge || status == http.StatusUnsupportedMediaType {
		return CodeInvalid
	}
	return CodeInternal
}

// Error is an error answer as a Client returns it: its message is the
// server's, and errors.Is matches the sentinel its code stands for.
type Error struct {
	Status  int
	Code    string
	Message string
}

// Error returns the server's message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the sentinel of the code (nil for internal errors).
func (e *Error) Unwrap() error { return sentinelFor(e.Code) }

// unreachableError is a failed connection to the socket.
type unreachableError struct {
	socket string
	err    error
}

func (e *unreachableError) Error() string {
	return "cannot reach hearthd at " + e.socket + ": " + e.err.Error()
}

func (e *unreachableError) Is(target error) bool { return target == ErrUnreachable }

func (e *unreachableError) Unwrap() error { return e.err }
