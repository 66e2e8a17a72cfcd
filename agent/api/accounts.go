package api

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors of signing in and of the first-boot setup.
var (
	ErrUnauthorized = errors.New("not signed in")     // 401: no session, a revoked or expired one, a wrong password
	ErrGone         = errors.New("gone")              // 410: setup after the box is claimed
	ErrTooMany      = errors.New("too many attempts") // 429: see RetryError
)

// RetryError says that attempts are rate-limited or locked out, and when the
// next one may come. It wraps ErrTooMany.
type RetryError struct {
	After time.Duration
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("too many attempts: try again in %s", e.After.Round(time.Second))
}

// Unwrap makes errors.Is(err, ErrTooMany) true.
func (e *RetryError) Unwrap() error { return ErrTooMany }

// Roles of users.
const (
	RoleOwner  = "owner"  // everything, including users and the box's settings
	RoleMember = "member" // opens apps; no installs, no settings
)

// User is an account of the box.
type User struct {
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	TOTP    bool      `json:"totp"` // two-factor sign-in is on
	Created time.Time `json:"created"`
}

// AddUserRequest makes a member (or another owner).
type AddUserRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

// Session is a signed-in browser. ID is public (shown in the sessions list,
// used to revoke); the token that authenticates it is never listed.
type Session struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Role      string    `json:"role"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"lastSeen"`
	Expires   time.Time `json:"expires"`
	UserAgent string    `json:"userAgent,omitempty"`
}

// LoginRequest signs a user in. TOTP is the six-digit code when the user has
// two-factor sign-in on.
type LoginRequest struct {
	User      string `json:"user"`
	Password  string `json:"password"`
	TOTP      string `json:"totp,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

// LoginResult is a new session and its secret token (the cookie's value).
// When the password is right but a TOTP code is needed and missing,
// NeedTOTP is set and there is no token.
type LoginResult struct {
	Token    string  `json:"token,omitempty"`
	Session  Session `json:"session"`
	NeedTOTP bool    `json:"needTotp,omitempty"`
}

// TOTPEnrollment is a new TOTP secret, shown once, to be confirmed with a
// code before it is turned on.
type TOTPEnrollment struct {
	Secret string `json:"secret"` // base32, for typing in
	URI    string `json:"uri"`    // otpauth://totp/..., for a QR code
}

// AccountService is users, passwords, sessions and two-factor sign-in.
// Wrong passwords answer ErrUnauthorized; repeated ones a *RetryError with a
// growing delay (per user name, never per client address).
type AccountService interface {
	Login(ctx context.Context, req LoginRequest) (LoginResult, error)
	// Authenticate returns the session of a token, and marks it seen; an
	// unknown, expired or revoked token answers ErrUnauthorized.
	Authenticate(ctx context.Context, token string) (Session, error)
	Logout(ctx context.Context, token string) error
	Sessions(ctx context.Context, user string) ([]Session, error)
	RevokeSession(ctx context.Context, user, id string) error

	Users(ctx context.Context) ([]User, error)
	AddUser(ctx context.Context, req AddUserRequest) (User, error)
	RemoveUser(ctx context.Context, name string) error
	// ChangePassword checks the old password and ends the user's other sessions.
	ChangePassword(ctx context.Context, user, oldPassword, newPassword string) error

	EnrollTOTP(ctx context.Context, user string) (TOTPEnrollment, error)
	ConfirmTOTP(ctx context.Context, user, code string) error
	DisableTOTP(ctx context.Context, user, password string) error
}

// Wizard steps, in order.
const (
	StepWelcome  = "welcome"
	StepCode     = "code"
	StepOwner    = "owner"
	StepBox      = "box" // name and time zone
	StepAccess   = "access"
	StepBackup   = "backup" // optional
	StepApps     = "apps"
	StepDone     = "done"
	AccessLAN    = "lan"    // LAN only
	AccessDDNS   = "ddns"   // a free dynamic-DNS name
	AccessDomain = "domain" // an own domain with a DNS provider
)

// SetupState is where the first-boot wizard is. It is saved at every step,
// so a reload or a reboot resumes.
type SetupState struct {
	Claimed  bool   `json:"claimed"`
	Step     string `json:"step"`
	Owner    string `json:"owner,omitempty"`
	BoxName  string `json:"boxName,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	Access   string `json:"access,omitempty"`
	Domain   string `json:"domain,omitempty"`
	Provider string `json:"provider,omitempty"`
	// Apps chosen to install at the end, with the operations started.
	Apps       []string `json:"apps,omitempty"`
	Operations []string `json:"operations,omitempty"`
}

// SetupBoxRequest names the box and sets its time zone.
type SetupBoxRequest struct {
	Name     string `json:"name"`     // a DNS label: the box is <name>.local
	Timezone string `json:"timezone"` // an IANA name, e.g. Europe/Berlin
}

// SetupAccessRequest says how the box is reached.
type SetupAccessRequest struct {
	Mode     string `json:"mode"` // AccessLAN, AccessDDNS or AccessDomain
	Domain   string `json:"domain,omitempty"`
	Provider string `json:"provider,omitempty"` // rfc2136, desec, duckdns, cloudflare
	// Credentials of the DNS provider (token, key); stored, never shown again.
	Credentials map[string]string `json:"credentials,omitempty"`
}

// SetupService is the first-boot wizard. Every call but SetupState and
// UnlockSetup needs the setup token that UnlockSetup returned for the right
// setup code; every call answers ErrGone once the box is claimed.
type SetupService interface {
	// SetupState returns the wizard's state; token "" shows the steps
	// before the code only.
	SetupState(ctx context.Context, token string) (SetupState, error)
	// UnlockSetup checks the setup code shown on the box's console. A wrong
	// code answers ErrUnauthorized; too many, a *RetryError.
	UnlockSetup(ctx context.Context, code string) (token string, err error)
	SetupOwner(ctx context.Context, token, name, password string) error
	SetupBox(ctx context.Context, token string, req SetupBoxRequest) error
	SetupAccess(ctx context.Context, token string, req SetupAccessRequest) error
	SetupApps(ctx context.Context, token string, apps []string) error
	// FinishSetup claims the box: the setup code is void, the setup
	// endpoints answer ErrGone, the chosen apps start installing, and the
	// owner is signed in.
	FinishSetup(ctx context.Context, token string, userAgent string) (LoginResult, error)
	// FactoryReset forgets the owner, users, sessions and the wizard's
	// answers (apps and their data stay), and makes a new setup code.
	FactoryReset(ctx context.Context) error
}

type sessionKey struct{}

// WithSession records, in a request's context, the public id of the session
// that asks (the web UI sets it): ChangePassword keeps that session and
// ends the user's others.
func WithSession(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, sessionKey{}, id)
}

// SessionFrom returns the session id WithSession recorded, or "".
func SessionFrom(ctx context.Context) string {
	id, _ := ctx.Value(sessionKey{}).(string)
	return id
}

// SetupCodeService shows the current setup code to root over the local
// socket (`hearth setup code`), for a box whose console no one can see. The
// web UI never offers it. It answers ErrGone once the box is claimed.
type SetupCodeService interface {
	SetupCode(ctx context.Context) (string, error)
}
