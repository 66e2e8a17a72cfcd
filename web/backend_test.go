package web

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

// testBackend is a Backend for rendering and handler tests: apitest's
// sample box, with accounts and the wizard kept in memory. The real
// implementation is tested in the agent and, end to end, by the browser
// test.
type testBackend struct {
	*apitest.Fake

	mu          sync.Mutex // guards the fields below
	users       map[string]*testUser
	sessions    map[string]api.Session // by token
	nextSession int
	setup       api.SetupState
	code        string
	codeFails   int
	setupTokens map[string]bool
	finished    []string // setup calls seen, in order
}

type testUser struct {
	api.User
	password string
	fails    int
	totp     bool
}

// testTOTP is the code the test backend accepts.
const testTOTP = "123456"

// newTestBackend is the sample box, claimed, with an owner "ada"
// (password "correct horse") and a member "bob" (password "battery staple").
func newTestBackend() *testBackend {
	b := &testBackend{
		Fake:        apitest.Sample(),
		users:       map[string]*testUser{},
		sessions:    map[string]api.Session{},
		code:        "ABCD-EFGH-JK",
		setupTokens: map[string]bool{},
		setup: api.SetupState{Claimed: true, Step: api.StepDone, Owner: "ada", BoxName: "hearth", Timezone: "Europe/Berlin",
			Access: api.AccessLAN},
	}
	b.users["ada"] = &testUser{User: api.User{Name: "ada", Role: api.RoleOwner, Created: apitest.T0}, password: "correct horse"}
	b.users["bob"] = &testUser{User: api.User{Name: "bob", Role: api.RoleMember, Created: apitest.T0}, password: "battery staple"}
	return b
}

// unclaimed puts the box back before setup.
func (b *testBackend) unclaimed() *testBackend {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.setup = api.SetupState{Step: api.StepWelcome}
	b.users = map[string]*testUser{}
	return b
}

// at puts an unclaimed box at a wizard step, with token "setup-token".
func (b *testBackend) at(st api.SetupState) *testBackend {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.setup = st
	b.setupTokens["setup-token"] = true
	return b
}

// signIn makes a session for user and returns its token.
func (b *testBackend) signIn(user, ua string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.newSession(user, ua)
}

func (b *testBackend) newSession(user, ua string) string {
	b.nextSession++
	token := fmt.Sprintf("token-%s-%d", user, b.nextSession)
	b.sessions[token] = api.Session{ID: fmt.Sprintf("s%d", b.nextSession), User: user, Role: b.users[user].Role,
		Created: apitest.T0, LastSeen: apitest.T0.Add(time.Hour), Expires: apitest.T0.Add(30 * 24 * time.Hour), UserAgent: ua}
	return token
}

func (b *testBackend) Login(ctx context.Context, req api.LoginRequest) (api.LoginResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.users[req.User]
	if u == nil {
		return api.LoginResult{}, api.ErrUnauthorized
	}
	if u.fails >= 3 {
		return api.LoginResult{}, &api.RetryError{After: time.Duration(u.fails-2) * 30 * time.Second}
	}
	if req.Password != u.password {
		u.fails++
		return api.LoginResult{}, fmt.Errorf("login: %w", api.ErrUnauthorized)
	}
	if u.totp && req.TOTP == "" {
		return api.LoginResult{NeedTOTP: true}, nil
	}
	if u.totp && req.TOTP != testTOTP {
		u.fails++
		return api.LoginResult{}, fmt.Errorf("login: totp: %w", api.ErrUnauthorized)
	}
	u.fails = 0
	token := b.newSession(req.User, req.UserAgent)
	return api.LoginResult{Token: token, Session: b.sessions[token]}, nil
}

func (b *testBackend) Authenticate(ctx context.Context, token string) (api.Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.sessions[token]
	if !ok {
		return api.Session{}, api.ErrUnauthorized
	}
	return s, nil
}

func (b *testBackend) Logout(ctx context.Context, token string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.sessions[token]; !ok {
		return api.ErrUnauthorized
	}
	delete(b.sessions, token)
	return nil
}

func (b *testBackend) Sessions(ctx context.Context, user string) ([]api.Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []api.Session
	for _, s := range b.sessions {
		if s.User == user {
			out = append(out, s)
		}
	}
	sortSessions(out)
	return out, nil
}

func sortSessions(s []api.Session) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j].ID < s[i].ID {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func (b *testBackend) RevokeSession(ctx context.Context, user, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for t, s := range b.sessions {
		if s.ID == id && s.User == user {
			delete(b.sessions, t)
			return nil
		}
	}
	return fmt.Errorf("session %s: %w", id, api.ErrNotFound)
}

func (b *testBackend) Users(ctx context.Context) ([]api.User, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []api.User
	for _, name := range []string{"ada", "bob", "cy"} {
		if u := b.users[name]; u != nil {
			uu := u.User
			uu.TOTP = u.totp
			out = append(out, uu)
		}
	}
	return out, nil
}

func (b *testBackend) AddUser(ctx context.Context, req api.AddUserRequest) (api.User, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(req.Password) < 8 {
		return api.User{}, fmt.Errorf("password: too short, use at least 8 characters: %w", api.ErrInvalid)
	}
	u := &testUser{User: api.User{Name: req.Name, Role: req.Role, Created: apitest.T0}, password: req.Password}
	b.users[req.Name] = u
	return u.User, nil
}

func (b *testBackend) RemoveUser(ctx context.Context, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.users, name)
	return nil
}

func (b *testBackend) ChangePassword(ctx context.Context, user, oldPassword, newPassword string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.users[user]
	if u == nil || u.password != oldPassword {
		return api.ErrUnauthorized
	}
	u.password = newPassword
	return nil
}

func (b *testBackend) EnrollTOTP(ctx context.Context, user string) (api.TOTPEnrollment, error) {
	return api.TOTPEnrollment{Secret: "JBSWY3DPEHPK3PXP", URI: "otpauth://totp/Hearth:" + user + "?secret=JBSWY3DPEHPK3PXP&issuer=Hearth"}, nil
}

func (b *testBackend) ConfirmTOTP(ctx context.Context, user, code string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if code != testTOTP {
		return fmt.Errorf("code: not the one your app shows now: %w", api.ErrInvalid)
	}
	b.users[user].totp = true
	return nil
}

func (b *testBackend) DisableTOTP(ctx context.Context, user, password string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.users[user].password != password {
		return api.ErrUnauthorized
	}
	b.users[user].totp = false
	return nil
}

func (b *testBackend) SetupState(ctx context.Context, token string) (api.SetupState, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.setup.Claimed {
		return api.SetupState{Claimed: true}, nil
	}
	if token == "" {
		step := api.StepWelcome
		if b.setup.Step != api.StepWelcome {
			step = api.StepCode
		}
		return api.SetupState{Step: step}, nil
	}
	if !b.setupTokens[token] {
		return api.SetupState{}, api.ErrUnauthorized
	}
	return b.setup, nil
}

func (b *testBackend) UnlockSetup(ctx context.Context, code string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.setup.Claimed {
		return "", api.ErrGone
	}
	if b.codeFails >= 3 {
		return "", &api.RetryError{After: time.Minute}
	}
	norm := func(s string) string { return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s)) }
	if norm(code) != norm(b.code) {
		b.codeFails++
		return "", fmt.Errorf("setup code: %w", api.ErrUnauthorized)
	}
	b.setupTokens["setup-token"] = true
	if b.setup.Step == api.StepWelcome || b.setup.Step == api.StepCode {
		b.setup.Step = api.StepOwner
	}
	return "setup-token", nil
}

// setupCall checks a setup call's token and records it.
func (b *testBackend) setupCall(token, name string) error {
	if b.setup.Claimed {
		return api.ErrGone
	}
	if !b.setupTokens[token] {
		return api.ErrUnauthorized
	}
	b.finished = append(b.finished, name)
	return nil
}

func (b *testBackend) SetupOwner(ctx context.Context, token, name, password string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.setupCall(token, "owner"); err != nil {
		return err
	}
	if len(password) < 10 {
		return fmt.Errorf("password: too easy to guess: add a word or two: %w", api.ErrInvalid)
	}
	b.users[name] = &testUser{User: api.User{Name: name, Role: api.RoleOwner, Created: apitest.T0}, password: password}
	b.setup.Owner, b.setup.Step = name, api.StepBox
	return nil
}

func (b *testBackend) SetupBox(ctx context.Context, token string, req api.SetupBoxRequest) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.setupCall(token, "box"); err != nil {
		return err
	}
	b.setup.BoxName, b.setup.Timezone, b.setup.Step = req.Name, req.Timezone, api.StepAccess
	return nil
}

func (b *testBackend) SetupAccess(ctx context.Context, token string, req api.SetupAccessRequest) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.setupCall(token, "access:"+req.Mode); err != nil {
		return err
	}
	b.setup.Access, b.setup.Domain, b.setup.Provider, b.setup.Step = req.Mode, req.Domain, req.Provider, api.StepBackup
	return nil
}

func (b *testBackend) SetupApps(ctx context.Context, token string, apps []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.setupCall(token, "apps:"+strings.Join(apps, ",")); err != nil {
		return err
	}
	b.setup.Apps, b.setup.Step = apps, api.StepDone
	return nil
}

func (b *testBackend) FinishSetup(ctx context.Context, token string, userAgent string) (api.LoginResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.setupCall(token, "finish"); err != nil {
		return api.LoginResult{}, err
	}
	b.setup.Claimed = true
	b.setupTokens = map[string]bool{}
	t := b.newSession(b.setup.Owner, userAgent)
	return api.LoginResult{Token: t, Session: b.sessions[t]}, nil
}

var _ Backend = (*testBackend)(nil)
