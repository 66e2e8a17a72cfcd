package state

import (
	"errors"
	"fmt"
	"time"
)

// Session is a signed-in browser (bucket sessions, keyed by Hash). The
// token itself is never stored: Hash is the hex SHA-256 of it, so a copy of
// the state file signs no one in. ID is public: it names the session in
// lists and to revoke it.
type Session struct {
	Hash      string    `json:"hash"`
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"lastSeen"`
	Expires   time.Time `json:"expires"` // the absolute end, whatever the use
	UserAgent string    `json:"userAgent,omitempty"`
}

// Session returns the session whose token hashes to hash, or ErrNotFound.
func (tx *Tx) Session(hash string) (Session, error) {
	if err := checkHash("hash", hash); err != nil {
		return Session{}, err
	}
	var s Session
	ok, err := tx.get(bucketSessions, []byte(hash), &s)
	if err != nil {
		return Session{}, err
	}
	if !ok {
		return Session{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	return s, nil
}

// Sessions returns every session, in the order of their hashes.
func (tx *Tx) Sessions() ([]Session, error) {
	b, err := tx.bucket(bucketSessions)
	if err != nil {
		return nil, err
	}
	var out []Session
	err = b.ForEach(func(k, v []byte) error {
		var s Session
		if err := decode(v, &s); err != nil {
			return fmt.Errorf("sessions/%s: %w", k, err)
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// PutSession creates or replaces a session after validating it.
func (tx *Tx) PutSession(s Session) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if err := validateSession(s); err != nil {
		return err
	}
	s.UserAgent = truncateTo(s.UserAgent, maxUserAgent)
	return tx.put(bucketSessions, []byte(s.Hash), s)
}

// DeleteSession deletes a session, reporting whether there was one.
func (tx *Tx) DeleteSession(hash string) (bool, error) {
	if err := tx.writable(); err != nil {
		return false, err
	}
	if err := checkHash("hash", hash); err != nil {
		return false, err
	}
	return tx.del(bucketSessions, []byte(hash))
}

// DeleteSessions deletes the sessions of user but the one whose hash is
// keep ("" keeps none), and returns how many it deleted. User "" deletes
// everyone's.
func (tx *Tx) DeleteSessions(user, keep string) (int, error) {
	if err := tx.writable(); err != nil {
		return 0, err
	}
	all, err := tx.Sessions()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range all {
		if (user != "" && s.User != user) || (keep != "" && s.Hash == keep) {
			continue
		}
		if _, err := tx.del(bucketSessions, []byte(s.Hash)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// maxUserAgent is how many bytes of a browser's User-Agent are kept.
const maxUserAgent = 512

func truncateTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
		n--
	}
	return s[:n]
}

// checkHash accepts a hex SHA-256: 64 characters of 0-9 and a-f.
func checkHash(field, s string) error {
	ok := len(s) == 64
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
	}
	if !ok {
		return &FieldError{Field: field, Reason: "must be a hex SHA-256 (64 characters of 0-9 and a-f)"}
	}
	return nil
}

func validateSession(s Session) error {
	errs := []error{checkHash("hash", s.Hash), checkOpID("id", s.ID), checkUserName("user", s.User),
		checkText("userAgent", s.UserAgent, 64<<10, false)}
	if s.Created.IsZero() || s.LastSeen.IsZero() || s.Expires.IsZero() {
		errs = append(errs, &FieldError{Field: "created", Reason: "created, lastSeen and expires must be set"})
	}
	return errors.Join(errs...)
}
