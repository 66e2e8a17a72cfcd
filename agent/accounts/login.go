package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/state"
)

// Login checks a user's password (and TOTP code when two-factor sign-in is
// on) and starts a new session: every sign-in gets a new token. A wrong
// name, password or code answers api.ErrUnauthorized, after the same work
// for all three; a name locked out answers a *api.RetryError before any.
func (s *Service) Login(ctx context.Context, req api.LoginRequest) (api.LoginResult, error) {
	name := req.User
	if CheckUserName("user", name) != nil {
		// No account has such a name: it is counted under one key, so
		// that made-up names cannot grow the lockout's table.
		name = invalidName
	}
	actor := api.ActorFrom(ctx)
	if wait := s.lock.wait(name, s.now()); wait > 0 {
		return api.LoginResult{}, &api.RetryError{After: wait}
	}
	u, err := s.store.User(name)
	known := err == nil
	if err != nil && !errors.Is(err, state.ErrNotFound) && !errors.Is(err, state.ErrInvalid) {
		return api.LoginResult{}, internal("sign in", err)
	}
	phc := ""
	if known {
		phc = u.PasswordHash
	}
	ok, err := s.verify(ctx, phc, req.Password)
	if err != nil {
		return api.LoginResult{}, internal("sign in", err)
	}
	if !ok || !known {
		return api.LoginResult{}, s.failed(actor, name, "wrong user name or password")
	}
	if u.TOTPSecret != "" {
		if req.TOTP == "" {
			return api.LoginResult{NeedTOTP: true}, nil
		}
		step, ok := CheckTOTP(u.TOTPSecret, req.TOTP, s.now(), u.TOTPLastStep)
		if !ok {
			return api.LoginResult{}, s.failed(actor, name, "wrong or used two-factor code")
		}
		u.TOTPLastStep = step
	}
	var res api.LoginResult
	err = s.store.Update(func(tx *state.Tx) error {
		cur, err := tx.User(name)
		if err != nil {
			return err
		}
		if cur.TOTPSecret != "" && u.TOTPLastStep <= cur.TOTPLastStep {
			return fmt.Errorf("two-factor code already used: %w", api.ErrUnauthorized)
		}
		cur.TOTPLastStep = max(cur.TOTPLastStep, u.TOTPLastStep)
		if err := tx.PutUser(cur); err != nil {
			return err
		}
		if err := s.pruneExpired(tx); err != nil {
			return err
		}
		res.Token, res.Session, err = s.NewSession(tx, cur, req.UserAgent)
		return err
	})
	if errors.Is(err, api.ErrUnauthorized) || errors.Is(err, state.ErrNotFound) {
		return api.LoginResult{}, s.failed(actor, name, "wrong or used two-factor code")
	}
	if err != nil {
		return api.LoginResult{}, internal("sign in", err)
	}
	s.lock.succeed(name)
	s.cfg.Activity(actor, "login", "ok", fmt.Sprintf("user %q", name))
	return res, nil
}

// invalidName is the lockout's key of every name no account can have.
const invalidName = "(not a user name)"

// failed counts a wrong attempt for name, logs it, and says so.
func (s *Service) failed(actor, name, why string) error {
	s.cfg.Activity(actor, "login", "failed", fmt.Sprintf("user %q: %s", name, why))
	if d := s.lock.fail(name, s.now()); d > 0 {
		s.cfg.Activity(actor, "lockout", "locked", fmt.Sprintf("user %q for %s", name, d))
		s.log.Warn("sign-in locked out", "user", name, "for", d)
	}
	return fmt.Errorf("%s: %w", why, api.ErrUnauthorized)
}

// pruneExpired deletes the sessions that have ended.
func (s *Service) pruneExpired(tx *state.Tx) error {
	all, err := tx.Sessions()
	if err != nil {
		return err
	}
	now := s.now()
	for _, r := range all {
		if s.expired(r, now) {
			if _, err := tx.DeleteSession(r.Hash); err != nil {
				return err
			}
		}
	}
	return nil
}

// Authenticate returns the session of a token and marks it seen. An
// unknown, ended or revoked token, or one of a removed user, answers
// api.ErrUnauthorized.
func (s *Service) Authenticate(_ context.Context, token string) (api.Session, error) {
	if !wellFormed(token) {
		return api.Session{}, fmt.Errorf("session token: malformed: %w", api.ErrUnauthorized)
	}
	hash := HashToken(token)
	now := s.now()
	var out api.Session
	err := s.store.Update(func(tx *state.Tx) error {
		r, err := tx.Session(hash)
		if errors.Is(err, state.ErrNotFound) {
			return fmt.Errorf("session: unknown or revoked: %w", api.ErrUnauthorized)
		}
		if err != nil {
			return err
		}
		u, err := tx.User(r.User)
		if errors.Is(err, state.ErrNotFound) || (err == nil && s.expired(r, now)) {
			if _, err := tx.DeleteSession(hash); err != nil {
				return err
			}
			out = api.Session{}
			return nil
		}
		if err != nil {
			return err
		}
		if now.Sub(r.LastSeen) >= seenEvery {
			r.LastSeen = now
			if err := tx.PutSession(r); err != nil {
				return err
			}
		}
		out = s.view(r, u.Role)
		return nil
	})
	if err != nil {
		if errors.Is(err, api.ErrUnauthorized) {
			return api.Session{}, err
		}
		return api.Session{}, internal("authenticate", err)
	}
	if out.ID == "" {
		return api.Session{}, fmt.Errorf("session: ended: %w", api.ErrUnauthorized)
	}
	return out, nil
}

// Logout ends the session of a token; an unknown token is no error.
func (s *Service) Logout(ctx context.Context, token string) error {
	if !wellFormed(token) {
		return nil
	}
	var user string
	err := s.store.Update(func(tx *state.Tx) error {
		r, err := tx.Session(HashToken(token))
		if errors.Is(err, state.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		user = r.User
		_, err = tx.DeleteSession(r.Hash)
		return err
	})
	if err != nil {
		return internal("sign out", err)
	}
	if user != "" {
		s.cfg.Activity(api.ActorFrom(ctx), "logout", "done", fmt.Sprintf("user %q", user))
	}
	return nil
}

// Sessions lists the live sessions of user, or everyone's when user is "".
func (s *Service) Sessions(_ context.Context, user string) ([]api.Session, error) {
	if user != "" {
		if err := CheckUserName("user", user); err != nil {
			return nil, err
		}
	}
	now := s.now()
	var out []api.Session
	err := s.store.View(func(tx *state.Tx) error {
		users, err := tx.Users()
		if err != nil {
			return err
		}
		roles := map[string]string{}
		for _, u := range users {
			roles[u.Name] = u.Role
		}
		all, err := tx.Sessions()
		if err != nil {
			return err
		}
		for _, r := range all {
			role, ok := roles[r.User]
			if !ok || s.expired(r, now) || (user != "" && r.User != user) {
				continue
			}
			out = append(out, s.view(r, role))
		}
		return nil
	})
	if err != nil {
		return nil, internal("list sessions", err)
	}
	sortSessions(out)
	return out, nil
}

// RevokeSession ends the session with that public id; user "" revokes
// anyone's, else only user's.
func (s *Service) RevokeSession(ctx context.Context, user, id string) error {
	var who string
	err := s.store.Update(func(tx *state.Tx) error {
		all, err := tx.Sessions()
		if err != nil {
			return err
		}
		for _, r := range all {
			if r.ID == id && (user == "" || r.User == user) {
				who = r.User
				_, err := tx.DeleteSession(r.Hash)
				return err
			}
		}
		return fmt.Errorf("session %q: %w", id, api.ErrNotFound)
	})
	if errors.Is(err, api.ErrNotFound) {
		return err
	}
	if err != nil {
		return internal("revoke session", err)
	}
	s.cfg.Activity(api.ActorFrom(ctx), "session-revoke", "done", fmt.Sprintf("user %q session %s", who, id))
	return nil
}
