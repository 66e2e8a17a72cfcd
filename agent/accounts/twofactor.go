package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/state"
)

// EnrollTOTP makes a new TOTP secret for user, kept pending until
// ConfirmTOTP sees a code of it; two-factor sign-in stays as it was until
// then.
func (s *Service) EnrollTOTP(ctx context.Context, user string) (api.TOTPEnrollment, error) {
	if err := CheckUserName("user", user); err != nil {
		return api.TOTPEnrollment{}, err
	}
	secret, err := NewTOTPSecret()
	if err != nil {
		return api.TOTPEnrollment{}, err
	}
	err = s.store.Update(func(tx *state.Tx) error {
		u, err := tx.User(user)
		if err != nil {
			return err
		}
		u.TOTPPending = secret
		return tx.PutUser(u)
	})
	if errors.Is(err, state.ErrNotFound) {
		return api.TOTPEnrollment{}, fmt.Errorf("user %q: %w", user, api.ErrNotFound)
	}
	if err != nil {
		return api.TOTPEnrollment{}, internal("enrol two-factor sign-in", err)
	}
	return api.TOTPEnrollment{Secret: secret, URI: TOTPURI(secret, user, s.cfg.BoxName())}, nil
}

// ConfirmTOTP turns two-factor sign-in on once code matches the pending
// secret. A wrong code answers api.ErrUnauthorized.
func (s *Service) ConfirmTOTP(ctx context.Context, user, code string) error {
	if err := CheckUserName("user", user); err != nil {
		return err
	}
	err := s.store.Update(func(tx *state.Tx) error {
		u, err := tx.User(user)
		if errors.Is(err, state.ErrNotFound) {
			return fmt.Errorf("user %q: %w", user, api.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if u.TOTPPending == "" {
			return fmt.Errorf("totp: nothing to confirm: enrol first: %w", api.ErrInvalid)
		}
		step, ok := CheckTOTP(u.TOTPPending, code, s.now(), 0)
		if !ok {
			return fmt.Errorf("code: wrong two-factor code: %w", api.ErrUnauthorized)
		}
		u.TOTPSecret, u.TOTPPending, u.TOTPLastStep = u.TOTPPending, "", step
		return tx.PutUser(u)
	})
	if errors.Is(err, api.ErrNotFound) || errors.Is(err, api.ErrInvalid) || errors.Is(err, api.ErrUnauthorized) {
		return err
	}
	if err != nil {
		return internal("confirm two-factor sign-in", err)
	}
	s.cfg.Activity(api.ActorFrom(ctx), "totp-enable", "done", fmt.Sprintf("user %q", user))
	return nil
}

// DisableTOTP turns two-factor sign-in off after checking the password.
func (s *Service) DisableTOTP(ctx context.Context, user, password string) error {
	if err := s.checkPassword(ctx, user, password, "password"); err != nil {
		return err
	}
	err := s.store.Update(func(tx *state.Tx) error {
		u, err := tx.User(user)
		if err != nil {
			return err
		}
		u.TOTPSecret, u.TOTPPending, u.TOTPLastStep = "", "", 0
		return tx.PutUser(u)
	})
	if err != nil {
		return internal("disable two-factor sign-in", err)
	}
	s.cfg.Activity(api.ActorFrom(ctx), "totp-disable", "done", fmt.Sprintf("user %q", user))
	return nil
}
