package state

import (
	"errors"
	"fmt"
	"time"
)

// User is an account of the box (bucket users, keyed by Name). The
// password is stored only as an argon2id hash in PHC string form; the TOTP
// secrets are stored as they are (base32), since the box must compute codes
// from them.
type User struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// PasswordHash is "$argon2id$v=19$m=...,t=...,p=...$salt$hash".
	PasswordHash string    `json:"passwordHash"`
	Created      time.Time `json:"created"`
	// PasswordChanged is when the password was last set.
	PasswordChanged time.Time `json:"passwordChanged,omitzero"`
	// TOTPSecret is set while two-factor sign-in is on.
	TOTPSecret string `json:"totpSecret,omitempty"`
	// TOTPPending is a secret enrolled but not yet confirmed with a code.
	TOTPPending string `json:"totpPending,omitempty"`
	// TOTPLastStep is the last time step a code was accepted for: a code
	// of that step or an earlier one is never accepted again.
	TOTPLastStep int64 `json:"totpLastStep,omitempty"`
}

// User returns the user with that name, or ErrNotFound.
func (tx *Tx) User(name string) (User, error) {
	if err := checkUserName("name", name); err != nil {
		return User{}, err
	}
	var u User
	ok, err := tx.get(bucketUsers, []byte(name), &u)
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	return u, nil
}

// Users returns every user, ordered by name.
func (tx *Tx) Users() ([]User, error) {
	b, err := tx.bucket(bucketUsers)
	if err != nil {
		return nil, err
	}
	var out []User
	err = b.ForEach(func(k, v []byte) error {
		var u User
		if err := decode(v, &u); err != nil {
			return fmt.Errorf("users/%s: %w", k, err)
		}
		out = append(out, u)
		return nil
	})
	return out, err
}

// PutUser creates or replaces a user after validating it. Nothing is
// written when nothing changed.
func (tx *Tx) PutUser(u User) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if err := validateUser(u); err != nil {
		return err
	}
	return tx.put(bucketUsers, []byte(u.Name), u)
}

// DeleteUser deletes a user (not their sessions: see DeleteSessions), or
// fails with ErrNotFound.
func (tx *Tx) DeleteUser(name string) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if err := checkUserName("name", name); err != nil {
		return err
	}
	ok, err := tx.del(bucketUsers, []byte(name))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	return nil
}

// DeleteUsers deletes every user.
func (tx *Tx) DeleteUsers() error {
	return tx.clear(bucketUsers)
}

// Users returns every user, ordered by name.
func (s *Store) Users() ([]User, error) {
	var out []User
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Users()
		return err
	})
	return out, err
}

// User returns the user with that name, or ErrNotFound.
func (s *Store) User(name string) (User, error) {
	var u User
	err := s.View(func(tx *Tx) error {
		var err error
		u, err = tx.User(name)
		return err
	})
	return u, err
}

// isUserName reports whether s is a user name: [a-z][a-z0-9._-]{0,31}.
func isUserName(s string) bool {
	if len(s) < 1 || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func checkUserName(field, s string) error {
	if !isUserName(s) {
		return &FieldError{Field: field, Reason: fmt.Sprintf("%q must be 1-32 characters of a-z, 0-9, '.', '_' and '-', starting with a letter", s)}
	}
	return nil
}

func validateUser(u User) error {
	errs := []error{checkUserName("name", u.Name), oneOf("role", u.Role, "owner", "member"),
		checkWord("passwordHash", u.PasswordHash, 256, true),
		checkWord("totpSecret", u.TOTPSecret, 128, false), checkWord("totpPending", u.TOTPPending, 128, false)}
	if u.Created.IsZero() {
		errs = append(errs, &FieldError{Field: "created", Reason: "must be set"})
	}
	if u.TOTPLastStep < 0 {
		errs = append(errs, &FieldError{Field: "totpLastStep", Reason: "must not be negative"})
	}
	return errors.Join(errs...)
}
