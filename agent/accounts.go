package agent

import (
	"context"
	"errors"

	"github.com/hearthbox/hearth/agent/accounts"
	"github.com/hearthbox/hearth/agent/api"
)

var _ api.AccountService = (*Agent)(nil)

// initAccounts makes the account service and checks the setup wiring;
// New calls it.
func (a *Agent) initAccounts() error {
	if a.cfg.Setup.Code != nil && a.cfg.Setup.Limiter == nil {
		return errors.New("agent config: Setup.Limiter is required with Setup.Code")
	}
	acct, err := accounts.New(accounts.Config{
		Options:  a.cfg.Accounts,
		Store:    a.store,
		BoxName:  a.boxName,
		Activity: func(actor, action, outcome, detail string) { a.activity(actor, "", action, outcome, detail) },
		Now:      a.cfg.Now,
		Logger:   a.cfg.Logger,
	})
	if err != nil {
		return err
	}
	a.acct = acct
	return nil
}

// Login implements api.AccountService.
func (a *Agent) Login(ctx context.Context, req api.LoginRequest) (api.LoginResult, error) {
	return a.acct.Login(ctx, req)
}

// Authenticate implements api.AccountService.
func (a *Agent) Authenticate(ctx context.Context, token string) (api.Session, error) {
	return a.acct.Authenticate(ctx, token)
}

// Logout implements api.AccountService.
func (a *Agent) Logout(ctx context.Context, token string) error { return a.acct.Logout(ctx, token) }

// Sessions implements api.AccountService.
func (a *Agent) Sessions(ctx context.Context, user string) ([]api.Session, error) {
	return a.acct.Sessions(ctx, user)
}

// RevokeSession implements api.AccountService.
func (a *Agent) RevokeSession(ctx context.Context, user, id string) error {
	return a.acct.RevokeSession(ctx, user, id)
}

// Users implements api.AccountService.
func (a *Agent) Users(ctx context.Context) ([]api.User, error) { return a.acct.Users(ctx) }

// AddUser implements api.AccountService.
func (a *Agent) AddUser(ctx context.Context, req api.AddUserRequest) (api.User, error) {
	return a.acct.AddUser(ctx, req)
}

// RemoveUser implements api.AccountService.
func (a *Agent) RemoveUser(ctx context.Context, name string) error {
	return a.acct.RemoveUser(ctx, name)
}

// ChangePassword implements api.AccountService.
func (a *Agent) ChangePassword(ctx context.Context, user, oldPassword, newPassword string) error {
	return a.acct.ChangePassword(ctx, user, oldPassword, newPassword)
}

// EnrollTOTP implements api.AccountService.
func (a *Agent) EnrollTOTP(ctx context.Context, user string) (api.TOTPEnrollment, error) {
	return a.acct.EnrollTOTP(ctx, user)
}

// ConfirmTOTP implements api.AccountService.
func (a *Agent) ConfirmTOTP(ctx context.Context, user, code string) error {
	return a.acct.ConfirmTOTP(ctx, user, code)
}

// DisableTOTP implements api.AccountService.
func (a *Agent) DisableTOTP(ctx context.Context, user, password string) error {
	return a.acct.DisableTOTP(ctx, user, password)
}
