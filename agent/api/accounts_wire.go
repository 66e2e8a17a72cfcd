package api

// Request and answer bodies of the account and setup routes
// (accounts_handlers.go). Tokens travel in bodies, never in URLs, so that
// no access log holds one.

// TokenRequest carries a session or setup token.
type TokenRequest struct {
	Token string `json:"token"`
}

// PasswordChangeRequest is the body of POST /v1/users/{name}/password.
type PasswordChangeRequest struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// CodeRequest carries a TOTP or setup code.
type CodeRequest struct {
	Code string `json:"code"`
}

// PasswordRequest carries a password.
type PasswordRequest struct {
	Password string `json:"password"`
}

// SetupOwnerRequest is the body of POST /v1/setup/owner.
type SetupOwnerRequest struct {
	Token    string `json:"token"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

// SetupBoxWire is the body of POST /v1/setup/box.
type SetupBoxWire struct {
	Token string `json:"token"`
	SetupBoxRequest
}

// SetupAccessWire is the body of POST /v1/setup/access.
type SetupAccessWire struct {
	Token string `json:"token"`
	SetupAccessRequest
}

// SetupAppsRequest is the body of POST /v1/setup/apps.
type SetupAppsRequest struct {
	Token string   `json:"token"`
	Apps  []string `json:"apps"`
}

// FinishSetupRequest is the body of POST /v1/setup/finish.
type FinishSetupRequest struct {
	Token     string `json:"token"`
	UserAgent string `json:"userAgent,omitempty"`
}

// SetupTokenResponse answers POST /v1/setup/unlock.
type SetupTokenResponse struct {
	Token string `json:"token"`
}

// SetupCodeResponse answers GET /v1/setup/code.
type SetupCodeResponse struct {
	Code string `json:"code"`
}
