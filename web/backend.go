package web

import (
	"context"

	"github.com/hearthbox/hearth/agent/api"
)

// Backend is what the web UI needs of the box: the methods it calls of
// api.Service, api.AccountService and api.SetupService. The agent satisfies
// it; web never imports the agent itself.
type Backend interface {
	// Of api.Service.
	Status(ctx context.Context) (api.Status, error)
	CatalogApps(ctx context.Context, catalogID string) ([]api.CatalogApp, error)
	Apps(ctx context.Context) ([]api.App, error)
	App(ctx context.Context, id string) (api.App, error)
	Install(ctx context.Context, req api.InstallRequest) (api.Operation, error)
	Start(ctx context.Context, id string) (api.Operation, error)
	Stop(ctx context.Context, id string) (api.Operation, error)
	Restart(ctx context.Context, id string) (api.Operation, error)
	Update(ctx context.Context, id, version string) (api.Operation, error)
	Rollback(ctx context.Context, id string) (api.Operation, error)
	Uninstall(ctx context.Context, id string, keepData bool) (api.Operation, error)
	Operation(ctx context.Context, id string) (api.Operation, error)
	WatchOperation(ctx context.Context, id string) (<-chan api.Progress, error)
	Logs(ctx context.Context, app string, opts api.LogOptions, fn func(api.LogLine) error) error
	Activity(ctx context.Context, since uint64, limit int) ([]api.Activity, error)

	// Of api.AccountService.
	Login(ctx context.Context, req api.LoginRequest) (api.LoginResult, error)
	Authenticate(ctx context.Context, token string) (api.Session, error)
	Logout(ctx context.Context, token string) error
	Sessions(ctx context.Context, user string) ([]api.Session, error)
	RevokeSession(ctx context.Context, user, id string) error
	Users(ctx context.Context) ([]api.User, error)
	AddUser(ctx context.Context, req api.AddUserRequest) (api.User, error)
	RemoveUser(ctx context.Context, name string) error
	ChangePassword(ctx context.Context, user, oldPassword, newPassword string) error
	EnrollTOTP(ctx context.Context, user string) (api.TOTPEnrollment, error)
	ConfirmTOTP(ctx context.Context, user, code string) error
	DisableTOTP(ctx context.Context, user, password string) error

	// Of api.SetupService.
	SetupState(ctx context.Context, token string) (api.SetupState, error)
	UnlockSetup(ctx context.Context, code string) (string, error)
	SetupOwner(ctx context.Context, token, name, password string) error
	SetupBox(ctx context.Context, token string, req api.SetupBoxRequest) error
	SetupAccess(ctx context.Context, token string, req api.SetupAccessRequest) error
	SetupApps(ctx context.Context, token string, apps []string) error
	FinishSetup(ctx context.Context, token string, userAgent string) (api.LoginResult, error)
}
