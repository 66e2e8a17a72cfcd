package apitest

import (
	"context"
	"fmt"
	"slices"

	"github.com/hearthbox/hearth/agent/api"
)

// Accounts is the Fake's canned account and setup state. The methods
// answer from it; Fake.Err still overrides any of them.
type Accounts struct {
	UserList    []api.User
	SessionList []api.Session
	// LoginResult is what Login returns; Token is what Authenticate knows.
	LoginResult api.LoginResult
	Enrollment  api.TOTPEnrollment
	Setup       api.SetupState
	// SetupToken is what UnlockSetup returns for the code Code.
	SetupToken string
	Code       string
}

// Login implements api.AccountService: it returns Accounts.LoginResult.
func (f *Fake) Login(ctx context.Context, req api.LoginRequest) (api.LoginResult, error) {
	if err := f.record(ctx, "Login", req.User); err != nil {
		return api.LoginResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Accounts.LoginResult, nil
}

// Authenticate implements api.AccountService: Accounts.LoginResult's
// token is the one session it knows.
func (f *Fake) Authenticate(ctx context.Context, token string) (api.Session, error) {
	if err := f.record(ctx, "Authenticate"); err != nil {
		return api.Session{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if token == "" || token != f.Accounts.LoginResult.Token {
		return api.Session{}, fmt.Errorf("session: unknown: %w", api.ErrUnauthorized)
	}
	return f.Accounts.LoginResult.Session, nil
}

// Logout implements api.AccountService.
func (f *Fake) Logout(ctx context.Context, token string) error {
	return f.record(ctx, "Logout")
}

// Sessions implements api.AccountService: Accounts.SessionList, of user
// or all.
func (f *Fake) Sessions(ctx context.Context, user string) ([]api.Session, error) {
	if err := f.record(ctx, "Sessions", user); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []api.Session
	for _, s := range f.Accounts.SessionList {
		if user == "" || s.User == user {
			out = append(out, s)
		}
	}
	return out, nil
}

// RevokeSession implements api.AccountService: it removes the session
// from Accounts.SessionList.
func (f *Fake) RevokeSession(ctx context.Context, user, id string) error {
	if err := f.record(ctx, "RevokeSession", user, id); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.Accounts.SessionList, func(s api.Session) bool { return s.ID == id && (user == "" || s.User == user) })
	if i < 0 {
		return fmt.Errorf("session %q: %w", id, api.ErrNotFound)
	}
	f.Accounts.SessionList = slices.Delete(f.Accounts.SessionList, i, i+1)
	return nil
}

// Users implements api.AccountService: Accounts.UserList.
func (f *Fake) Users(ctx context.Context) ([]api.User, error) {
	if err := f.record(ctx, "Users"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.Accounts.UserList), nil
}

// AddUser implements api.AccountService: it appends to Accounts.UserList.
func (f *Fake) AddUser(ctx context.Context, req api.AddUserRequest) (api.User, error) {
	if err := f.record(ctx, "AddUser", req.Name, req.Role); err != nil {
		return api.User{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := api.User{Name: req.Name, Role: req.Role, Created: f.Box.Started}
	f.Accounts.UserList = append(f.Accounts.UserList, u)
	return u, nil
}

// RemoveUser implements api.AccountService.
func (f *Fake) RemoveUser(ctx context.Context, name string) error {
	if err := f.record(ctx, "RemoveUser", name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.Accounts.UserList, func(u api.User) bool { return u.Name == name })
	if i < 0 {
		return fmt.Errorf("user %q: %w", name, api.ErrNotFound)
	}
	f.Accounts.UserList = slices.Delete(f.Accounts.UserList, i, i+1)
	return nil
}

// ChangePassword implements api.AccountService (passwords are not
// recorded).
func (f *Fake) ChangePassword(ctx context.Context, user, _, _ string) error {
	return f.record(ctx, "ChangePassword", user)
}

// EnrollTOTP implements api.AccountService: Accounts.Enrollment.
func (f *Fake) EnrollTOTP(ctx context.Context, user string) (api.TOTPEnrollment, error) {
	if err := f.record(ctx, "EnrollTOTP", user); err != nil {
		return api.TOTPEnrollment{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Accounts.Enrollment, nil
}

// ConfirmTOTP implements api.AccountService.
func (f *Fake) ConfirmTOTP(ctx context.Context, user, code string) error {
	return f.record(ctx, "ConfirmTOTP", user, code)
}

// DisableTOTP implements api.AccountService.
func (f *Fake) DisableTOTP(ctx context.Context, user, _ string) error {
	return f.record(ctx, "DisableTOTP", user)
}

// SetupState implements api.SetupService: Accounts.Setup, or ErrGone once
// it is claimed.
func (f *Fake) SetupState(ctx context.Context, token string) (api.SetupState, error) {
	if err := f.record(ctx, "SetupState"); err != nil {
		return api.SetupState{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Accounts.Setup.Claimed {
		return f.Accounts.Setup, fmt.Errorf("the box is claimed: %w", api.ErrGone)
	}
	return f.Accounts.Setup, nil
}

// UnlockSetup implements api.SetupService: Accounts.Code opens it.
func (f *Fake) UnlockSetup(ctx context.Context, code string) (string, error) {
	if err := f.record(ctx, "UnlockSetup", code); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if code != f.Accounts.Code {
		return "", fmt.Errorf("code: wrong setup code: %w", api.ErrUnauthorized)
	}
	return f.Accounts.SetupToken, nil
}

// setupCall records a wizard call and checks its token.
func (f *Fake) setupCall(ctx context.Context, method, token string, args ...any) error {
	if err := f.record(ctx, method, args...); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Accounts.Setup.Claimed {
		return fmt.Errorf("the box is claimed: %w", api.ErrGone)
	}
	if token != f.Accounts.SetupToken {
		return fmt.Errorf("setup token: unknown: %w", api.ErrUnauthorized)
	}
	return nil
}

// SetupOwner implements api.SetupService.
func (f *Fake) SetupOwner(ctx context.Context, token, name, _ string) error {
	return f.setupCall(ctx, "SetupOwner", token, name)
}

// SetupBox implements api.SetupService.
func (f *Fake) SetupBox(ctx context.Context, token string, req api.SetupBoxRequest) error {
	return f.setupCall(ctx, "SetupBox", token, req)
}

// SetupAccess implements api.SetupService.
func (f *Fake) SetupAccess(ctx context.Context, token string, req api.SetupAccessRequest) error {
	return f.setupCall(ctx, "SetupAccess", token, req.Mode, req.Domain, req.Provider)
}

// SetupApps implements api.SetupService.
func (f *Fake) SetupApps(ctx context.Context, token string, apps []string) error {
	return f.setupCall(ctx, "SetupApps", token, apps)
}

// FinishSetup implements api.SetupService: it claims Accounts.Setup and
// returns Accounts.LoginResult.
func (f *Fake) FinishSetup(ctx context.Context, token string, _ string) (api.LoginResult, error) {
	if err := f.setupCall(ctx, "FinishSetup", token); err != nil {
		return api.LoginResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Accounts.Setup.Claimed, f.Accounts.Setup.Step = true, api.StepDone
	return f.Accounts.LoginResult, nil
}

// FactoryReset implements api.SetupService: Accounts.Setup starts again.
func (f *Fake) FactoryReset(ctx context.Context) error {
	if err := f.record(ctx, "FactoryReset"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Accounts.Setup = api.SetupState{Step: api.StepWelcome}
	f.Accounts.UserList, f.Accounts.SessionList = nil, nil
	return nil
}

// SetupCode implements api.SetupCodeService: Accounts.Code, or ErrGone
// once claimed.
func (f *Fake) SetupCode(ctx context.Context) (string, error) {
	if err := f.record(ctx, "SetupCode"); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Accounts.Setup.Claimed {
		return "", fmt.Errorf("the box is claimed: %w", api.ErrGone)
	}
	return f.Accounts.Code, nil
}
