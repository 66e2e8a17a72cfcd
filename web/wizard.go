package web

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/hearthbox/hearth/agent/api"
)

// wizardView is one step of the first-boot wizard.
type wizardView struct {
	Step  string
	Steps []wizardStep
	State api.SetupState
	Error string
	// What the form shows (the saved answers, or what was just sent).
	Owner, BoxName, Timezone, Access, Domain, Provider string
	Timezones                                          []string
	Apps                                               []api.CatalogApp
	Chosen                                             map[string]bool
}

// wizardStep is one entry of the steps list at the top of the wizard.
type wizardStep struct {
	Label         string
	Done, Current bool
}

// stepOrder is the wizard's steps, in order.
func stepOrder() []string {
	return []string{api.StepWelcome, api.StepCode, api.StepOwner, api.StepBox, api.StepAccess, api.StepBackup, api.StepApps, api.StepDone}
}

func stepIndex(step string) int { return slices.Index(stepOrder(), step) }

func stepTitle(step string) string {
	return map[string]string{api.StepWelcome: "Welcome", api.StepCode: "Setup code", api.StepOwner: "Account",
		api.StepBox: "Name", api.StepAccess: "Access", api.StepBackup: "Backups", api.StepApps: "Apps", api.StepDone: "Done"}[step]
}

// provider is a DNS provider the access step offers.
type provider struct{ ID, Label string }

func providerList() []provider {
	return []provider{{api.ProviderDeSEC, "deSEC (free dedyn.io names)"}, {api.ProviderDuckDNS, "Duck DNS (free duckdns.org names)"},
		{api.ProviderCloudflare, "Cloudflare"}, {api.ProviderRFC2136, "My own DNS server (RFC 2136)"}}
}

// boxNameRE is a DNS label in small letters: the box is <name>.local.
var boxNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// setupToken returns the wizard's state for the request's setup cookie; a
// token the backend no longer knows is forgotten.
func (u *UI) setupState(w http.ResponseWriter, r *http.Request) (api.SetupState, string, error) {
	token := u.cookie(r, cookieSetup)
	st, err := u.backend.SetupState(r.Context(), token)
	if token != "" && errors.Is(err, api.ErrUnauthorized) {
		u.setCookie(w, r, cookieSetup, "", -1)
		token = ""
		st, err = u.backend.SetupState(r.Context(), "")
	}
	if err == nil && st.Claimed {
		err = api.ErrGone
	}
	if st.Step == "" {
		st.Step = api.StepWelcome
	}
	if token != "" && stepIndex(st.Step) < stepIndex(api.StepOwner) {
		st.Step = api.StepOwner // unlocked: the code is behind us
	}
	return st, token, err
}

// reachable reports whether the wizard may show step now: any step done
// or current, the code while there is no token, and the apps after the
// optional backups.
func reachable(step string, st api.SetupState, token string) bool {
	if token == "" {
		return step == api.StepWelcome || step == api.StepCode
	}
	if step == api.StepCode || step == api.StepWelcome {
		return false // unlocked already: on to the current step
	}
	cur := stepIndex(st.Step)
	return stepIndex(step) <= cur || (st.Step == api.StepBackup && step == api.StepApps)
}

func (u *UI) setupGone(w http.ResponseWriter, r *http.Request) {
	u.setCookie(w, r, cookieSetup, "", -1)
	u.renderError(w, r, http.StatusGone, "This box is set up", "Setup is finished and its code is void. Sign in with your account; a factory reset starts setup again.")
}

// setupResume sends the browser to the step the wizard is at.
func (u *UI) setupResume(w http.ResponseWriter, r *http.Request) {
	st, token, err := u.setupState(w, r)
	if err != nil {
		u.setupFail(w, r, err)
		return
	}
	step := st.Step
	if token == "" && step != api.StepWelcome {
		step = api.StepCode
	}
	http.Redirect(w, r, "/setup/"+step, http.StatusSeeOther)
}

func (u *UI) setupFail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, api.ErrGone) {
		u.setupGone(w, r)
		return
	}
	u.fail(w, r, err)
}

// setupPage shows one step.
func (u *UI) setupPage(w http.ResponseWriter, r *http.Request) {
	step := r.PathValue("step")
	if stepIndex(step) < 0 {
		u.notFound(w, r)
		return
	}
	st, token, err := u.setupState(w, r)
	if err != nil {
		u.setupFail(w, r, err)
		return
	}
	if !reachable(step, st, token) {
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
		return
	}
	u.renderStep(w, r, http.StatusOK, step, st, nil, "")
}

// renderStep shows step with the saved answers, or with what form says
// when the answer was refused.
func (u *UI) renderStep(w http.ResponseWriter, r *http.Request, status int, step string, st api.SetupState, form map[string][]string, msg string) {
	v := wizardView{Step: step, State: st, Error: msg, Owner: st.Owner, BoxName: st.BoxName, Timezone: st.Timezone,
		Access: st.Access, Domain: st.Domain, Provider: st.Provider, Timezones: timezones(), Chosen: map[string]bool{}}
	if v.Timezone == "" {
		v.Timezone = "UTC"
	}
	if v.BoxName == "" {
		v.BoxName = "hearth"
	}
	get := func(k string) string {
		if vs := form[k]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	if form != nil {
		switch step {
		case api.StepOwner:
			v.Owner = get("name")
		case api.StepBox:
			v.BoxName, v.Timezone = get("name"), get("timezone")
		case api.StepAccess:
			v.Access, v.Domain, v.Provider = get("mode"), get("domain"), get("provider")
		}
	}
	cur := stepIndex(step)
	for i, s := range stepOrder() {
		v.Steps = append(v.Steps, wizardStep{Label: stepTitle(s), Done: i < cur, Current: i == cur})
	}
	if step == api.StepApps {
		for _, a := range st.Apps {
			v.Chosen[a] = true
		}
		for _, a := range form["app"] {
			v.Chosen[a] = true
		}
		apps, err := u.backend.CatalogApps(r.Context(), "")
		if err != nil {
			u.log.Warn("store apps for the wizard", "err", err)
			v.Error = "The store could not be read now: you can install apps later."
		}
		for _, a := range apps {
			if !a.Installed {
				v.Apps = append(v.Apps, a)
			}
		}
	}
	u.render(w, r, status, wizardPage(u.basePage(w, r, nil, "Set up: "+stepTitle(step), ""), v))
}

// setupSubmit saves one step's answers and goes on.
func (u *UI) setupSubmit(w http.ResponseWriter, r *http.Request) {
	step := r.PathValue("step")
	if step == api.StepCode {
		u.setupCode(w, r)
		return
	}
	st, token, err := u.setupState(w, r)
	if err != nil {
		u.setupFail(w, r, err)
		return
	}
	if token == "" || !reachable(step, st, token) {
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
		return
	}
	f := r.PostForm
	ctx := api.WithActor(r.Context(), "setup (web)")
	next := ""
	switch step {
	case api.StepOwner:
		name, pw := strings.TrimSpace(f.Get("name")), f.Get("password")
		if pw != f.Get("password2") {
			err = formError("password: the two passwords differ; type the same password twice")
			break
		}
		err = u.backend.SetupOwner(ctx, token, name, pw)
		next = api.StepBox
	case api.StepBox:
		req := api.SetupBoxRequest{Name: strings.ToLower(strings.TrimSpace(f.Get("name"))), Timezone: f.Get("timezone")}
		switch {
		case !boxNameRE.MatchString(req.Name):
			err = formError("name: use small letters, digits and dashes (at most 63), not starting or ending with a dash")
		case !slices.Contains(timezones(), req.Timezone):
			err = formError("time zone: choose one from the list")
		default:
			err = u.backend.SetupBox(ctx, token, req)
		}
		next = api.StepAccess
	case api.StepAccess:
		var req api.SetupAccessRequest
		req, err = accessRequest(f)
		if err == nil {
			err = u.backend.SetupAccess(ctx, token, req)
		}
		next = api.StepBackup
	case api.StepApps:
		err = u.backend.SetupApps(ctx, token, f["app"])
		next = api.StepDone
	case api.StepDone:
		u.setupFinish(w, r, token, st)
		return
	default:
		u.notFound(w, r)
		return
	}
	if err != nil {
		if errors.Is(err, api.ErrGone) {
			u.setupGone(w, r)
			return
		}
		status, msg := statusOf(err), messageOf(err)
		var fe formError
		if errors.As(err, &fe) {
			status, msg = http.StatusBadRequest, sentence(fe.Error())
		} else if status >= 500 {
			u.log.Error("setup step", "step", step, "err", err)
		}
		setRetryAfter(w, err)
		u.renderStep(w, r, status, step, st, f, msg)
		return
	}
	http.Redirect(w, r, "/setup/"+next, http.StatusSeeOther)
}

// setupCode checks the setup code and keeps the token it unlocks in a
// cookie for the rest of the wizard.
func (u *UI) setupCode(w http.ResponseWriter, r *http.Request) {
	code := r.PostForm.Get("code")
	token, err := u.backend.UnlockSetup(api.WithActor(r.Context(), "setup (web)"), code)
	if err != nil {
		if errors.Is(err, api.ErrGone) {
			u.setupGone(w, r)
			return
		}
		status, msg := statusOf(err), messageOf(err)
		if errors.Is(err, api.ErrUnauthorized) {
			msg = "That is not the code the box shows. Check it on the box's screen and type it again."
		}
		setRetryAfter(w, err)
		u.renderStep(w, r, status, api.StepCode, api.SetupState{Step: api.StepCode}, nil, msg)
		return
	}
	u.setCookie(w, r, cookieSetup, token, 0)
	http.Redirect(w, r, "/setup", http.StatusSeeOther)
}

// setupFinish claims the box and signs the owner in.
func (u *UI) setupFinish(w http.ResponseWriter, r *http.Request, token string, st api.SetupState) {
	res, err := u.backend.FinishSetup(api.WithActor(r.Context(), "setup (web)"), token, r.UserAgent())
	if err != nil {
		if errors.Is(err, api.ErrGone) {
			u.setupGone(w, r)
			return
		}
		setRetryAfter(w, err)
		u.renderStep(w, r, statusOf(err), api.StepDone, st, nil, messageOf(err))
		return
	}
	u.setCookie(w, r, cookieSetup, "", -1)
	u.setCookie(w, r, cookieCSRF, "", -1)
	u.setCookie(w, r, cookieSession, res.Token, sessionMaxAge)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// formError is an answer the UI refuses before the backend sees it; its
// text names the field.
type formError string

func (e formError) Error() string { return string(e) }

// accessRequest reads the access step's form.
func accessRequest(f map[string][]string) (api.SetupAccessRequest, error) {
	get := func(k string) string {
		if vs := f[k]; len(vs) > 0 {
			return strings.TrimSpace(vs[0])
		}
		return ""
	}
	req := api.SetupAccessRequest{Mode: get("mode")}
	switch req.Mode {
	case api.AccessLAN:
		return req, nil
	case api.AccessDDNS, api.AccessDomain:
	default:
		return req, formError("access: choose one of the three ways")
	}
	req.Domain, req.Provider = strings.ToLower(get("domain")), get("provider")
	if req.Domain == "" {
		return req, formError("domain: type the name the box is reached at")
	}
	if !slices.ContainsFunc(providerList(), func(p provider) bool { return p.ID == req.Provider }) {
		return req, formError("DNS provider: choose one from the list")
	}
	// The credentials' keys are those the agent's DNS providers read.
	req.Credentials = map[string]string{}
	keys := map[string]string{"token": "token", "server": "server", "key_name": "key_name", "secret": "secret"}
	if req.Provider == api.ProviderCloudflare {
		keys["token"] = "api_token"
	}
	for field, key := range keys {
		if v := get(field); v != "" {
			req.Credentials[key] = v
		}
	}
	return req, nil
}
