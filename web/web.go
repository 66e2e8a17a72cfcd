package web

import (
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"sync"
)

// Config is what New needs.
type Config struct {
	// Backend is the box's service layer (required).
	Backend Backend
	// AllowedHosts returns the host names (without port) the UI answers to,
	// such as "hearth.local" and "localhost"; it is asked on every request,
	// so a renamed box is followed. IP literals are always allowed: a page
	// elsewhere cannot make a browser send one for its own name, so they
	// give DNS rebinding nothing. nil allows IP literals only.
	AllowedHosts func() []string
	// Secure says the UI is reached over HTTPS (behind the box's own TLS):
	// cookies are then __Host- prefixed and Secure. A request that arrives
	// over TLS is treated so whatever Secure says.
	Secure bool
	// BoxName returns the box's name for the settings page (nil = not shown).
	BoxName func() string
	// RootCA is the box's LAN root certificate in PEM, offered for download
	// on the settings page (nil = not offered).
	RootCA []byte
	// RootCAFingerprint is shown next to the download (SHA-256, hex).
	RootCAFingerprint string
	// Logger; nil discards.
	Logger *slog.Logger
}

// UI is the web UI: the first-boot wizard, sign-in, the launcher, the store,
// app pages and settings. It is an http.Handler.
type UI struct {
	cfg     Config
	backend Backend
	log     *slog.Logger
	mux     *http.ServeMux
	// key signs CSRF tokens; it is new in every process, so a restart
	// only costs a reload of open forms.
	key [32]byte

	// pendingMu guards pending: sign-ins whose password was right and that
	// wait for their TOTP code.
	pendingMu sync.Mutex
	pending   map[string]pendingLogin

	// ticketsMu guards tickets: one-time tickets of the app sign-in
	// handoff (appauth.go), by ticket.
	ticketsMu sync.Mutex
	tickets   map[string]appTicket
}

var _ http.Handler = (*UI)(nil)

// New checks cfg and returns the UI.
func New(cfg Config) (*UI, error) {
	if cfg.Backend == nil {
		return nil, errors.New("config.Backend: required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	u := &UI{cfg: cfg, backend: cfg.Backend, log: cfg.Logger.With("component", "web"), pending: map[string]pendingLogin{}, tickets: map[string]appTicket{}}
	rand.Read(u.key[:])
	u.mux = u.routes()
	return u, nil
}

// ServeHTTP applies the security rules every request passes, then routes.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	if !u.hostAllowed(r.Host) {
		u.log.Debug("foreign host refused", "host", r.Host)
		http.Error(w, "This box does not answer to that name.", http.StatusMisdirectedRequest)
		return
	}
	if !safeMethod(r.Method) {
		if err := u.checkUnsafe(w, r); err != nil {
			u.log.Debug("unsafe request refused", "method", r.Method, "path", r.URL.Path, "err", err)
			u.renderError(w, r, http.StatusForbidden, "Request refused",
				"This form was sent from another site or is too old. Go back, reload the page and try again.")
			return
		}
	}
	u.mux.ServeHTTP(w, r)
}

func (u *UI) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.Handle("GET /static/", staticHandler())
	m.HandleFunc("GET /{$}", u.home)

	m.HandleFunc("GET /signin", u.signinPage)
	m.HandleFunc("POST /signin", u.signin)
	m.HandleFunc("POST /signin/totp", u.signinTOTP)
	m.HandleFunc("POST /signout", u.signout)
	m.HandleFunc("GET /auth/app", u.appAuth)

	m.HandleFunc("GET /setup", u.setupResume)
	m.HandleFunc("GET /setup/{step}", u.setupPage)
	m.HandleFunc("POST /setup/{step}", u.setupSubmit)

	m.HandleFunc("GET /store", u.user(u.store))
	m.HandleFunc("GET /store/{catalog}/{app}", u.user(u.storeApp))
	m.HandleFunc("POST /store/{catalog}/{app}/install", u.owner(u.install))
	m.HandleFunc("GET /ops/{id}", u.owner(u.operation))
	m.HandleFunc("GET /ops/{id}/events", u.owner(u.operationEvents))

	m.HandleFunc("GET /apps/{id}", u.user(u.appPage))
	m.HandleFunc("GET /apps/{id}/logs", u.owner(u.logEvents))
	m.HandleFunc("POST /apps/{id}/{action}", u.owner(u.appAction))

	m.HandleFunc("GET /settings", u.user(u.settings))
	m.HandleFunc("GET /settings/ca.crt", u.rootCA)
	m.HandleFunc("POST /settings/password", u.user(u.changePassword))
	m.HandleFunc("POST /settings/sessions/{id}/revoke", u.user(u.revokeSession))
	m.HandleFunc("POST /settings/totp/enrol", u.user(u.enrolTOTP))
	m.HandleFunc("POST /settings/totp/confirm", u.user(u.confirmTOTP))
	m.HandleFunc("POST /settings/totp/disable", u.user(u.disableTOTP))
	m.HandleFunc("POST /settings/users", u.owner(u.addUser))
	m.HandleFunc("POST /settings/users/{name}/remove", u.owner(u.removeUser))
	m.HandleFunc("/", u.notFound)
	return m
}
