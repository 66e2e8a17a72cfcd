package accounts

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits of a password.
const (
	MinPasswordLen = 10   // characters
	MaxPasswordLen = 1024 // bytes: argon2 reads all of it
)

// ErrWeakPassword matches every *WeakPasswordError.
var ErrWeakPassword = errors.New("password is too weak")

// WeakPasswordError names the strength rule a password broke: "length",
// "name" (it holds the user's or the box's name) or "common" (it is one of
// the most common passwords).
type WeakPasswordError struct {
	Rule   string
	Reason string
}

func (e *WeakPasswordError) Error() string { return "password: " + e.Reason }

// Is makes a WeakPasswordError match ErrWeakPassword.
func (e *WeakPasswordError) Is(target error) bool { return target == ErrWeakPassword }

//go:embed common.txt
var commonList string

// CheckPassword applies the strength rules to a new password of user on the
// box named box, and returns a *WeakPasswordError naming the first rule
// broken.
func CheckPassword(password, user, box string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return &WeakPasswordError{Rule: "length", Reason: "must be valid UTF-8"}
	case n < MinPasswordLen:
		return &WeakPasswordError{Rule: "length", Reason: fmt.Sprintf("must be at least %d characters, not %d", MinPasswordLen, n)}
	case len(password) > MaxPasswordLen:
		return &WeakPasswordError{Rule: "length", Reason: fmt.Sprintf("must be at most %d bytes", MaxPasswordLen)}
	}
	lower := strings.ToLower(password)
	for _, nm := range []struct{ what, name string }{{"user", user}, {"box", box}} {
		name := strings.ToLower(nm.name)
		if name == "" {
			continue
		}
		if lower == name || (utf8.RuneCountInString(name) >= 4 && strings.Contains(lower, name)) {
			return &WeakPasswordError{Rule: "name", Reason: fmt.Sprintf("must not contain the %s name %q", nm.what, nm.name)}
		}
	}
	if isCommon(lower) {
		return &WeakPasswordError{Rule: "common", Reason: "is one of the most common passwords: choose another"}
	}
	if r0, _ := utf8.DecodeRuneInString(password); strings.Trim(password, string(r0)) == "" {
		return &WeakPasswordError{Rule: "common", Reason: "must not repeat one character"}
	}
	return nil
}

// isCommon reports whether a lower-case password is on the embedded list.
func isCommon(lower string) bool {
	for line := range strings.Lines(commonList) {
		line = strings.TrimSpace(line)
		if line != "" && line[0] != '#' && line == lower {
			return true
		}
	}
	return false
}
