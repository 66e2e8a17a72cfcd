package api

import (
	"context"
	"net/http"
	"net/url"
)

var (
	_ AccountService   = (*Client)(nil)
	_ SetupService     = (*Client)(nil)
	_ SetupCodeService = (*Client)(nil)
)

// Login implements AccountService.
func (c *Client) Login(ctx context.Context, req LoginRequest) (LoginResult, error) {
	var res LoginResult
	err := c.call(ctx, http.MethodPost, "/v1/login", nil, req, &res)
	return res, err
}

// Authenticate implements AccountService.
func (c *Client) Authenticate(ctx context.Context, token string) (Session, error) {
	var s Session
	err := c.call(ctx, http.MethodPost, "/v1/sessions/authenticate", nil, TokenRequest{Token: token}, &s)
	return s, err
}

// Logout implements AccountService.
func (c *Client) Logout(ctx context.Context, token string) error {
	return c.call(ctx, http.MethodPost, "/v1/logout", nil, TokenRequest{Token: token}, nil)
}

// Sessions implements AccountService.
func (c *Client) Sessions(ctx context.Context, user string) ([]Session, error) {
	var q url.Values
	if user != "" {
		q = url.Values{"user": {user}}
	}
	var list []Session
	err := c.call(ctx, http.MethodGet, "/v1/sessions", q, nil, &list)
	return list, err
}

// RevokeSession implements AccountService.
func (c *Client) RevokeSession(ctx context.Context, user, id string) error {
	var q url.Values
	if user != "" {
		q = url.Values{"user": {user}}
	}
	return c.call(ctx, http.MethodDelete, "/v1/sessions/"+url.PathEscape(id), q, nil, nil)
}

// Users implements AccountService.
func (c *Client) Users(ctx context.Context) ([]User, error) {
	var list []User
	err := c.call(ctx, http.MethodGet, "/v1/users", nil, nil, &list)
	return list, err
}

// AddUser implements AccountService.
func (c *Client) AddUser(ctx context.Context, req AddUserRequest) (User, error) {
	var u User
	err := c.call(ctx, http.MethodPost, "/v1/users", nil, req, &u)
	return u, err
}

// RemoveUser implements AccountService.
func (c *Client) RemoveUser(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodDelete, userPath(name), nil, nil, nil)
}

// ChangePassword implements AccountService.
func (c *Client) ChangePassword(ctx context.Context, user, oldPassword, newPassword string) error {
	return c.call(ctx, http.MethodPost, userPath(user)+"/password", nil, PasswordChangeRequest{Old: oldPassword, New: newPassword}, nil)
}

// EnrollTOTP implements AccountService.
func (c *Client) EnrollTOTP(ctx context.Context, user string) (TOTPEnrollment, error) {
	var en TOTPEnrollment
	err := c.call(ctx, http.MethodPost, userPath(user)+"/totp", nil, nil, &en)
	return en, err
}

// ConfirmTOTP implements AccountService.
func (c *Client) ConfirmTOTP(ctx context.Context, user, code string) error {
	return c.call(ctx, http.MethodPost, userPath(user)+"/totp/confirm", nil, CodeRequest{Code: code}, nil)
}

// DisableTOTP implements AccountService.
func (c *Client) DisableTOTP(ctx context.Context, user, password string) error {
	return c.call(ctx, http.MethodPost, userPath(user)+"/totp/disable", nil, PasswordRequest{Password: password}, nil)
}

// SetupState implements SetupService.
func (c *Client) SetupState(ctx context.Context, token string) (SetupState, error) {
	var st SetupState
	err := c.call(ctx, http.MethodPost, "/v1/setup/state", nil, TokenRequest{Token: token}, &st)
	return st, err
}

// UnlockSetup implements SetupService.
func (c *Client) UnlockSetup(ctx context.Context, code string) (string, error) {
	var res SetupTokenResponse
	err := c.call(ctx, http.MethodPost, "/v1/setup/unlock", nil, CodeRequest{Code: code}, &res)
	return res.Token, err
}

// SetupOwner implements SetupService.
func (c *Client) SetupOwner(ctx context.Context, token, name, password string) error {
	return c.call(ctx, http.MethodPost, "/v1/setup/owner", nil, SetupOwnerRequest{Token: token, Name: name, Password: password}, nil)
}

// SetupBox implements SetupService.
func (c *Client) SetupBox(ctx context.Context, token string, req SetupBoxRequest) error {
	return c.call(ctx, http.MethodPost, "/v1/setup/box", nil, SetupBoxWire{Token: token, SetupBoxRequest: req}, nil)
}

// SetupAccess implements SetupService.
func (c *Client) SetupAccess(ctx context.Context, token string, req SetupAccessRequest) error {
	return c.call(ctx, http.MethodPost, "/v1/setup/access", nil, SetupAccessWire{Token: token, SetupAccessRequest: req}, nil)
}

// SetupApps implements SetupService.
func (c *Client) SetupApps(ctx context.Context, token string, apps []string) error {
	return c.call(ctx, http.MethodPost, "/v1/setup/apps", nil, SetupAppsRequest{Token: token, Apps: nonNil(apps)}, nil)
}

// FinishSetup implements SetupService.
func (c *Client) FinishSetup(ctx context.Context, token string, userAgent string) (LoginResult, error) {
	var res LoginResult
	err := c.call(ctx, http.MethodPost, "/v1/setup/finish", nil, FinishSetupRequest{Token: token, UserAgent: userAgent}, &res)
	return res, err
}

// FactoryReset implements SetupService.
func (c *Client) FactoryReset(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "/v1/setup/factory-reset", nil, nil, nil)
}

// SetupCode implements SetupCodeService.
func (c *Client) SetupCode(ctx context.Context) (string, error) {
	var res SetupCodeResponse
	err := c.call(ctx, http.MethodGet, "/v1/setup/code", nil, nil, &res)
	return res.Code, err
}

func userPath(name string) string { return "/v1/users/" + url.PathEscape(name) }
