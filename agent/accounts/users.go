package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/state"
)

// Users lists the accounts, by name.
func (s *Service) Users(context.Context) ([]api.User, error) {
	recs, err := s.store.Users()
	if err != nil {
		return nil, internal("list users", err)
	}
	out := make([]api.User, 0, len(recs))
	for _, u := range recs {
		out = append(out, userView(u))
	}
	return out, nil
}

func userView(u state.User) api.User {
	return api.User{Name: u.Name, Role: u.Role, TOTP: u.TOTPSecret != "", Created: u.Created}
}

// AddUser makes an account after checking its name, role and password.
func (s *Service) AddUser(ctx context.Context, req api.AddUserRequest) (api.User, error) {
	if err := CheckUserName("name", req.Name); err != nil {
		return api.User{}, err
	}
	if req.Role != api.RoleOwner && req.Role != api.RoleMember {
		return api.User{}, fmt.Errorf("role %q: must be %s or %s: %w", req.Role, api.RoleOwner, api.RoleMember, api.ErrInvalid)
	}
	if err := s.CheckNewPassword(req.Password, req.Name); err != nil {
		return api.User{}, err
	}
	if _, err := s.store.User(req.Name); err == nil {
		return api.User{}, fmt.Errorf("name %q: a user of that name exists: %w", req.Name, api.ErrInvalid)
	}
	hash, err := s.Hash(ctx, req.Password)
	if err != nil {
		return api.User{}, internal("add user", err)
	}
	now := s.now()
	u := state.User{Name: req.Name, Role: req.Role, PasswordHash: hash, Created: now, PasswordChanged: now}
	err = s.store.Update(func(tx *state.Tx) error {
		if _, err := tx.User(req.Name); err == nil {
			return fmt.Errorf("name %q: a user of that name exists: %w", req.Name, api.ErrInvalid)
		}
		return tx.PutUser(u)
	})
	if errors.Is(err, api.ErrInvalid) {
		return api.User{}, err
	}
	if err != nil {
		return api.User{}, internal("add user", err)
	}
	s.cfg.Activity(api.ActorFrom(ctx), "user-add", "done", fmt.Sprintf("user %q role %s", u.Name, u.Role))
	return userView(u), nil
}

// RemoveUser deletes an account and its sessions; the last owner stays.
func (s *Service) RemoveUser(ctx context.Context, name string) error {
	if err := CheckUserName("name", name); err != nil {
		return err
	}
	err := s.store.Update(func(tx *state.Tx) error {
		u, err := tx.User(name)
		if errors.Is(err, state.ErrNotFound) {
			return fmt.Errorf("user %q: %w", name, api.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if u.Role == api.RoleOwner {
			all, err := tx.Users()
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(all, func(o state.User) bool { return o.Role == api.RoleOwner && o.Name != name }) {
				return fmt.Errorf("user %q: the last owner cannot be removed: %w", name, api.ErrRefused)
			}
		}
		if _, err := tx.DeleteSessions(name, ""); err != nil {
			return err
		}
		return tx.DeleteUser(name)
	})
	if errors.Is(err, api.ErrNotFound) || errors.Is(err, api.ErrRefused) {
		return err
	}
	if err != nil {
		return internal("remove user", err)
	}
	s.lock.succeed(name)
	s.cfg.Activity(api.ActorFrom(ctx), "user-remove", "done", fmt.Sprintf("user %q", name))
	return nil
}

// ChangePassword checks the old password (a wrong one counts toward the
// lockout) and sets the new one, ending every other session of the user:
// all of them, but the one api.SessionFrom(ctx) names.
func (s *Service) ChangePassword(ctx context.Context, user, oldPassword, newPassword string) error {
	if err := s.checkPassword(ctx, user, oldPassword, "old password"); err != nil {
		return err
	}
	if err := s.CheckNewPassword(newPassword, user); err != nil {
		return err
	}
	if oldPassword == newPassword {
		return fmt.Errorf("password: the new one must differ from the old one: %w", api.ErrInvalid)
	}
	hash, err := s.Hash(ctx, newPassword)
	if err != nil {
		return internal("change password", err)
	}
	keepID := api.SessionFrom(ctx)
	var ended int
	err = s.store.Update(func(tx *state.Tx) error {
		u, err := tx.User(user)
		if err != nil {
			return err
		}
		u.PasswordHash, u.PasswordChanged = hash, s.now()
		if err := tx.PutUser(u); err != nil {
			return err
		}
		keep := ""
		if keepID != "" {
			all, err := tx.Sessions()
			if err != nil {
				return err
			}
			for _, r := range all {
				if r.ID == keepID && r.User == user {
					keep = r.Hash
				}
			}
		}
		ended, err = tx.DeleteSessions(user, keep)
		return err
	})
	if err != nil {
		return internal("change password", err)
	}
	s.cfg.Activity(api.ActorFrom(ctx), "password-change", "done", fmt.Sprintf("user %q, %d other sessions ended", user, ended))
	return nil
}

// checkPassword verifies a user's password for a change of their account:
// a lockout answers *api.RetryError, a wrong password api.ErrUnauthorized.
func (s *Service) checkPassword(ctx context.Context, user, password, field string) error {
	if err := CheckUserName("user", user); err != nil {
		return err
	}
	if wait := s.lock.wait(user, s.now()); wait > 0 {
		return &api.RetryError{After: wait}
	}
	u, err := s.store.User(user)
	if errors.Is(err, state.ErrNotFound) {
		return fmt.Errorf("user %q: %w", user, api.ErrNotFound)
	}
	if err != nil {
		return internal("check password", err)
	}
	ok, err := s.verify(ctx, u.PasswordHash, password)
	if err != nil {
		return internal("check password", err)
	}
	if !ok {
		return s.failed(api.ActorFrom(ctx), user, "wrong "+field)
	}
	return nil
}

func sortSessions(ss []api.Session) {
	slices.SortFunc(ss, func(a, b api.Session) int {
		if c := strings.Compare(a.User, b.User); c != 0 {
			return c
		}
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
