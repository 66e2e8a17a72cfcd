package agent

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hearthbox/hearth/agent/accounts"
	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/state"
)

// SetupCode makes, compares, shows and voids the first-boot setup code
// (firstboot.Codes on the box).
type SetupCode interface {
	New() (string, error)
	// Match compares a typed code with the real one in constant time.
	Match(real, typed string) bool
	// Publish shows the code on the console, in the journal and in a
	// root-only file; Void takes it away.
	Publish(ctx context.Context, code string) error
	Void(ctx context.Context) error
}

// SetupLimiter limits setup code attempts for the whole box
// (firstboot.Limiter).
type SetupLimiter interface {
	Wait() time.Duration // until the next attempt may come; 0 = now
	Fail() time.Duration // a wrong code; returns the delay it starts
	Reset()
}

// Hostnamer sets the box's host name (systemd-hostnamed over D-Bus).
type Hostnamer interface {
	SetHostname(ctx context.Context, name string) error
}

// TimeZoner sets the box's time zone (systemd-timedated over D-Bus).
type TimeZoner interface {
	SetTimezone(ctx context.Context, zone string) error
}

// SetupConfig wires the first-boot wizard. Without Code the box has no
// wizard: the setup calls answer api.ErrUnavailable.
type SetupConfig struct {
	Code    SetupCode
	Limiter SetupLimiter // required with Code
	// Hostname and TimeZone apply the wizard's answers; nil records them
	// only.
	Hostname Hostnamer
	TimeZone TimeZoner
}

var _ api.SetupService = (*Agent)(nil)

// hostLabel is a box name: one lower-case DNS label.
var hostLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// dnsName is a domain: labels of a-z, 0-9 and '-', at least two.
var dnsName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)

// startSetup runs at the start of Run: an unclaimed box gets a setup code
// (the one it had, or a new one) on its console; a claimed box makes sure
// the code is void and that what follows the claim was started.
func (a *Agent) startSetup(ctx context.Context) {
	if a.cfg.Setup.Code == nil {
		return
	}
	a.setupMu.Lock()
	defer a.setupMu.Unlock()
	rec, err := a.store.Setup()
	if err != nil {
		a.log.Error("setup record", "err", err)
		return
	}
	if rec.Claimed {
		if err := a.cfg.Setup.Code.Void(ctx); err != nil {
			a.log.Warn("void setup code", "err", err)
		}
		if !rec.Followed {
			a.followClaim(ctx)
		}
		return
	}
	if err := a.publishCode(ctx, rec); err != nil {
		a.log.Error("setup code", "err", err)
	}
}

// publishCode makes a code when rec has none, saves it, and shows it.
// Called with setupMu held.
func (a *Agent) publishCode(ctx context.Context, rec state.Setup) error {
	if rec.Code == "" {
		code, err := a.cfg.Setup.Code.New()
		if err != nil {
			return err
		}
		rec.Code = code
		if err := a.store.Update(func(tx *state.Tx) error { return tx.PutSetup(rec) }); err != nil {
			return err
		}
	}
	return a.cfg.Setup.Code.Publish(ctx, rec.Code)
}

// wizard returns the setup record after checking that the box is not
// claimed and, unless token is "", that token is one UnlockSetup gave.
func (a *Agent) wizard(token string) (state.Setup, error) {
	if a.cfg.Setup.Code == nil {
		return state.Setup{}, fmt.Errorf("this hearthd has no setup wizard: %w", api.ErrUnavailable)
	}
	rec, err := a.store.Setup()
	if err != nil {
		return state.Setup{}, err
	}
	if rec.Claimed {
		return rec, fmt.Errorf("the box is claimed: sign in instead: %w", api.ErrGone)
	}
	if token != "" && !tokenIn(rec.Tokens, token) {
		return rec, fmt.Errorf("setup token: unknown: type the setup code again: %w", api.ErrUnauthorized)
	}
	return rec, nil
}

func tokenIn(hashes []string, token string) bool {
	h := []byte(accounts.HashToken(token))
	found := false
	for _, t := range hashes {
		if subtle.ConstantTimeCompare([]byte(t), h) == 1 {
			found = true
		}
	}
	return found
}

// setupStep is where the wizard is: the first step not answered yet.
func setupStep(rec state.Setup) string {
	switch {
	case rec.Claimed:
		return api.StepDone
	case rec.Owner == "":
		return api.StepOwner
	case rec.BoxName == "":
		return api.StepBox
	case rec.Access == "":
		return api.StepAccess
	case !rec.AppsChosen:
		return api.StepBackup
	}
	return api.StepDone
}

func setupView(rec state.Setup) api.SetupState {
	return api.SetupState{Claimed: rec.Claimed, Step: setupStep(rec), Owner: rec.Owner, BoxName: rec.BoxName,
		Timezone: rec.Timezone, Access: rec.Access, Domain: rec.Domain, Provider: rec.Provider,
		Apps: rec.Apps, Operations: rec.Operations}
}

// SetupState returns the wizard's state. Without a token it shows only the
// welcome step; once the box is claimed it answers api.ErrGone (with the
// claimed state, for callers in the process).
func (a *Agent) SetupState(_ context.Context, token string) (api.SetupState, error) {
	rec, err := a.wizard(token)
	switch {
	case errors.Is(err, api.ErrGone):
		return api.SetupState{Claimed: true, Step: api.StepDone}, err
	case err != nil:
		return api.SetupState{}, err
	case token == "":
		return api.SetupState{Step: api.StepWelcome}, nil
	}
	return setupView(rec), nil
}

// UnlockSetup checks the setup code and returns a setup token for the
// wizard's other calls. Attempts are limited for the whole box.
func (a *Agent) UnlockSetup(ctx context.Context, code string) (string, error) {
	a.setupMu.Lock()
	defer a.setupMu.Unlock()
	rec, err := a.wizard("")
	if err != nil {
		return "", err
	}
	if rec.Code == "" {
		return "", fmt.Errorf("the setup code is not made yet: %w", api.ErrUnavailable)
	}
	if wait := a.cfg.Setup.Limiter.Wait(); wait > 0 {
		return "", &api.RetryError{After: wait}
	}
	if !a.cfg.Setup.Code.Match(rec.Code, code) {
		d := a.cfg.Setup.Limiter.Fail()
		detail := "wrong setup code"
		if d > 0 {
			detail = fmt.Sprintf("wrong setup code; next try in %s", d)
		}
		a.activity(api.ActorFrom(ctx), "", "setup-unlock", "failed", detail)
		return "", fmt.Errorf("code: wrong setup code: %w", api.ErrUnauthorized)
	}
	a.cfg.Setup.Limiter.Reset()
	token, hash, err := accounts.NewToken()
	if err != nil {
		return "", err
	}
	rec.Tokens = append(rec.Tokens, hash)
	if n := len(rec.Tokens); n > maxSetupTokens {
		rec.Tokens = rec.Tokens[n-maxSetupTokens:]
	}
	if err := a.store.Update(func(tx *state.Tx) error { return tx.PutSetup(rec) }); err != nil {
		return "", err
	}
	a.activity(api.ActorFrom(ctx), "", "setup-unlock", "done", "")
	return token, nil
}

// maxSetupTokens is how many browsers may hold the wizard at once.
const maxSetupTokens = 4

// saveWizard runs change on the record, under setupMu, after checking
// the token again, and saves it.
func (a *Agent) saveWizard(token string, change func(*state.Setup) error) error {
	rec, err := a.wizard(token)
	if err != nil {
		return err
	}
	if err := change(&rec); err != nil {
		return err
	}
	return a.store.Update(func(tx *state.Tx) error { return tx.PutSetup(rec) })
}

// boxName is the name the strength check refuses in passwords.
func (a *Agent) boxName() string {
	if rec, err := a.store.Setup(); err == nil && rec.BoxName != "" {
		return rec.BoxName
	}
	return a.cfg.BoxName
}

// SetupOwner records the owner's account; it is made at the claim.
func (a *Agent) SetupOwner(ctx context.Context, token, name, password string) error {
	if err := accounts.CheckUserName("name", name); err != nil {
		return err
	}
	if err := a.acct.CheckNewPassword(password, name); err != nil {
		return err
	}
	a.setupMu.Lock()
	defer a.setupMu.Unlock()
	if _, err := a.wizard(token); err != nil {
		return err
	}
	hash, err := a.acct.Hash(ctx, password)
	if err != nil {
		return err
	}
	return a.saveWizard(token, func(rec *state.Setup) error {
		rec.Owner, rec.OwnerHash = name, hash
		return nil
	})
}

// SetupBox names the box and sets its time zone, at once.
func (a *Agent) SetupBox(ctx context.Context, token string, req api.SetupBoxRequest) error {
	var errs []error
	if !hostLabel.MatchString(req.Name) {
		errs = append(errs, fmt.Errorf("name %q: must be 1 to 63 of a-z, 0-9 and '-', not starting or ending with '-': %w", req.Name, api.ErrInvalid))
	}
	if req.Timezone == "" || req.Timezone == "Local" || strings.Contains(req.Timezone, "..") {
		errs = append(errs, fmt.Errorf("timezone %q: must be an IANA name such as Europe/Berlin: %w", req.Timezone, api.ErrInvalid))
	} else if _, err := time.LoadLocation(req.Timezone); err != nil {
		errs = append(errs, fmt.Errorf("timezone %q: not a known time zone: %w", req.Timezone, api.ErrInvalid))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	a.setupMu.Lock()
	defer a.setupMu.Unlock()
	rec, err := a.wizard(token)
	if err != nil {
		return err
	}
	if rec.Owner == "" {
		return fmt.Errorf("owner: make the owner's account first: %w", api.ErrInvalid)
	}
	if h := a.cfg.Setup.Hostname; h != nil {
		if err := h.SetHostname(ctx, req.Name); err != nil {
			return fmt.Errorf("set the box's name: %w", err)
		}
	}
	if tz := a.cfg.Setup.TimeZone; tz != nil {
		if err := tz.SetTimezone(ctx, req.Timezone); err != nil {
			return fmt.Errorf("set the time zone: %w", err)
		}
	}
	return a.saveWizard(token, func(rec *state.Setup) error {
		rec.BoxName, rec.Timezone = req.Name, req.Timezone
		return nil
	})
}

// accessProviders are the DNS providers the wizard offers.
var accessProviders = []string{api.ProviderRFC2136, api.ProviderDeSEC, api.ProviderDuckDNS, api.ProviderCloudflare}

// SetupAccess records how the box is reached; the DNS settings are handed
// to the dynamic DNS updater at the claim.
func (a *Agent) SetupAccess(_ context.Context, token string, req api.SetupAccessRequest) error {
	switch req.Mode {
	case api.AccessLAN:
		req.Domain, req.Provider, req.Credentials = "", "", nil
	case api.AccessDDNS, api.AccessDomain:
		req.Domain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(req.Domain), "."))
		var errs []error
		if len(req.Domain) > 253 || !dnsName.MatchString(req.Domain) {
			errs = append(errs, fmt.Errorf("domain %q: must be a DNS name such as home.example.org: %w", req.Domain, api.ErrInvalid))
		}
		if !slices.Contains(accessProviders, req.Provider) {
			errs = append(errs, fmt.Errorf("provider %q: must be one of %s: %w", req.Provider, strings.Join(accessProviders, ", "), api.ErrInvalid))
		}
		if len(req.Credentials) == 0 {
			errs = append(errs, fmt.Errorf("credentials: the DNS provider's token or key is needed: %w", api.ErrInvalid))
		}
		for _, k := range slices.Sorted(maps.Keys(req.Credentials)) {
			if v := req.Credentials[k]; k == "" || len(k) > 128 || strings.ContainsAny(k, " \t\r\n") || len(v) > 4096 {
				errs = append(errs, fmt.Errorf("credentials.%s: a key of up to 128 characters without spaces, a value of up to 4096 bytes: %w", k, api.ErrInvalid))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
	default:
		return fmt.Errorf("mode %q: must be %s, %s or %s: %w", req.Mode, api.AccessLAN, api.AccessDDNS, api.AccessDomain, api.ErrInvalid)
	}
	a.setupMu.Lock()
	defer a.setupMu.Unlock()
	return a.saveWizard(token, func(rec *state.Setup) error {
		if rec.BoxName == "" {
			return fmt.Errorf("box: name the box first: %w", api.ErrInvalid)
		}
		rec.Access, rec.Domain, rec.Provider, rec.Credentials = req.Mode, req.Domain, req.Provider, req.Credentials
		return nil
	})
}

// SetupApps records the apps to install at the claim (none is an answer).
func (a *Agent) SetupApps(ctx context.Context, token string, apps []string) error {
	offered, err := a.CatalogApps(ctx, "")
	if err != nil {
		return err
	}
	var chosen []string
	for i, id := range apps {
		if !appIDPattern.MatchString(id) || !slices.ContainsFunc(offered, func(c api.CatalogApp) bool { return c.ID == id }) {
			return fmt.Errorf("apps[%d] %q: no catalog offers it: %w", i, id, api.ErrInvalid)
		}
		if !slices.Contains(chosen, id) {
			chosen = append(chosen, id)
		}
	}
	a.setupMu.Lock()
	defer a.setupMu.Unlock()
	return a.saveWizard(token, func(rec *state.Setup) error {
		if rec.Access == "" {
			return fmt.Errorf("access: say how the box is reached first: %w", api.ErrInvalid)
		}
		rec.Apps, rec.AppsChosen = chosen, true
		return nil
	})
}

// FinishSetup claims the box in one transaction (the owner's account, the
// claim, the first session), voids the code, and starts what follows: the
// chosen apps' installs and the DNS settings.
func (a *Agent) FinishSetup(ctx context.Context, token string, userAgent string) (api.LoginResult, error) {
	a.setupMu.Lock()
	defer a.setupMu.Unlock()
	var res api.LoginResult
	err := a.store.Update(func(tx *state.Tx) error {
		rec, err := tx.Setup()
		if err != nil {
			return err
		}
		if rec.Claimed {
			return fmt.Errorf("the box is claimed: sign in instead: %w", api.ErrGone)
		}
		if !tokenIn(rec.Tokens, token) {
			return fmt.Errorf("setup token: unknown: type the setup code again: %w", api.ErrUnauthorized)
		}
		if step := setupStep(rec); step != api.StepDone && step != api.StepBackup {
			return fmt.Errorf("%s: this step is not done yet: %w", step, api.ErrInvalid)
		}
		now := a.cfg.Now().UTC().Round(0)
		owner := state.User{Name: rec.Owner, Role: api.RoleOwner, PasswordHash: rec.OwnerHash, Created: now, PasswordChanged: now}
		if err := tx.PutUser(owner); err != nil {
			return err
		}
		rec.Claimed, rec.ClaimedAt, rec.Code, rec.Tokens, rec.OwnerHash = true, now, "", nil, ""
		if err := tx.PutSetup(rec); err != nil {
			return err
		}
		res.Token, res.Session, err = a.acct.NewSession(tx, owner, userAgent)
		return err
	})
	if err != nil {
		return api.LoginResult{}, err
	}
	a.activity(api.ActorFrom(ctx), "", "setup-claim", "done", fmt.Sprintf("owner %q", res.Session.User))
	if err := a.cfg.Setup.Code.Void(ctx); err != nil {
		a.log.Warn("void setup code", "err", err)
	}
	a.followClaim(ctx)
	return res, nil
}

// followClaim starts the installs the wizard chose and hands its DNS
// settings to the updater, once; a failure is logged in the activity log
// and does not undo the claim. Called with setupMu held.
func (a *Agent) followClaim(ctx context.Context) {
	rec, err := a.store.Setup()
	if err != nil || !rec.Claimed || rec.Followed {
		return
	}
	actor := api.ActorFrom(ctx)
	for _, id := range rec.Apps {
		if _, err := a.store.App(id); err == nil {
			continue
		}
		op, err := a.Install(ctx, api.InstallRequest{App: id})
		if err != nil {
			a.activity(actor, id, "setup-install", "failed", err.Error())
			continue
		}
		rec.Operations = append(rec.Operations, op.ID)
	}
	if rec.Access == api.AccessDDNS || rec.Access == api.AccessDomain {
		zone, name := rec.Domain, "@"
		if rec.Access == api.AccessDDNS {
			name, zone, _ = strings.Cut(rec.Domain, ".")
		}
		req := api.SetDDNSRequest{Enabled: true, Provider: rec.Provider, Zone: zone, Name: name, Credentials: rec.Credentials}
		if _, err := a.SetDDNS(ctx, req); err != nil {
			a.activity(actor, "", "setup-access", "failed", err.Error())
		}
	}
	rec.Followed = true
	if err := a.store.Update(func(tx *state.Tx) error { return tx.PutSetup(rec) }); err != nil {
		a.log.Error("setup record", "err", err)
	}
}

// FactoryReset forgets the owner, the users, their sessions and the
// wizard's answers (apps and their data stay), and shows a new setup code.
func (a *Agent) FactoryReset(ctx context.Context) error {
	a.setupMu.Lock()
	defer a.setupMu.Unlock()
	err := a.store.Update(func(tx *state.Tx) error {
		if err := a.acct.Reset(tx); err != nil {
			return err
		}
		return tx.DeleteSetup()
	})
	if err != nil {
		return fmt.Errorf("factory reset: %w", err)
	}
	a.activity(api.ActorFrom(ctx), "", "factory-reset", "done", "owner, users, sessions and setup answers forgotten")
	if a.cfg.Setup.Code == nil {
		return nil
	}
	a.cfg.Setup.Limiter.Reset()
	if err := a.publishCode(ctx, state.Setup{}); err != nil {
		return fmt.Errorf("factory reset: new setup code: %w", err)
	}
	return nil
}

// SetupCode returns the current setup code, for root on the local socket.
func (a *Agent) SetupCode(context.Context) (string, error) {
	rec, err := a.wizard("")
	if err != nil {
		return "", err
	}
	if rec.Code == "" {
		return "", fmt.Errorf("the setup code is not made yet: %w", api.ErrUnavailable)
	}
	return rec.Code, nil
}
