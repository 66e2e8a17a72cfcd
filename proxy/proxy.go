package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Run and Apply once the proxy has stopped.
var ErrClosed = errors.New("proxy closed")

// Config configures a Proxy.
type Config struct {
	// HTTPAddr and HTTPSAddr are the addresses of the HTTP and HTTPS ports
	// (":80", ":443"; tests use "127.0.0.1:0").
	HTTPAddr, HTTPSAddr string
	// PortBind is the address the per-route ports bind on ("" = all).
	PortBind string
	// Certs provides certificates; its TLSConfig must set GetCertificate.
	Certs Certs
	// Sessions checks the Hearth sessions behind protected routes. nil
	// means protected routes always answer 401 (fail closed).
	Sessions Sessions
	// LoginURL is the UI's handoff for protected routes ("http://hearth.local/auth/app"),
	// an absolute http(s) URL; the proxy adds app=<the route's AuthScope>
	// and next=<the URL asked for>.
	LoginURL string
	// SessionCookie is the name of Hearth's session cookie. It, its
	// "__Host-" form and every AppCookiePrefix cookie are removed from
	// every request before it is forwarded, so that no app sees them.
	SessionCookie string
	// Own serves the box's own pages (the web UI) on the HTTP port, for the
	// host names OwnHost accepts that no route has: the first-boot wizard
	// at http://<box>.local. nil = the "no app here" page, as for any
	// other unknown name. Both or neither must be set.
	Own     http.Handler
	OwnHost func(host string) bool
	// AccessLog receives one entry per request (nil = none). It is called
	// from request goroutines and must be safe for concurrent use.
	AccessLog func(AccessEntry)
	// Timeouts; zero fields take their defaults.
	Timeouts Timeouts
	// Logger; nil discards.
	Logger *slog.Logger
}

// Timeouts bound how long the proxy waits. There is deliberately no write
// timeout and no whole-request read timeout: they would cut long downloads
// and uploads.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers (default 10 s).
	ReadHeader time.Duration
	// Idle closes keep-alive connections idle this long (default 2 min).
	Idle time.Duration
	// UpstreamDial bounds connecting to an upstream (default 5 s).
	UpstreamDial time.Duration
	// UpstreamResponseHeader bounds waiting for an upstream's response
	// headers once the request is sent (default 5 min).
	UpstreamResponseHeader time.Duration
	// Shutdown is how long Run lets requests finish when its context ends
	// (default 10 s).
	Shutdown time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.ReadHeader, 10*time.Second)
	def(&t.Idle, 2*time.Minute)
	def(&t.UpstreamDial, 5*time.Second)
	def(&t.UpstreamResponseHeader, 5*time.Minute)
	def(&t.Shutdown, 10*time.Second)
	return t
}

type runState int

const (
	stateNew runState = iota
	stateRunning
	stateStopped
)

// Proxy is Hearth's reverse proxy. Create it with New, serve with Run and
// change what it serves with Apply.
type Proxy struct {
	cfg         Config
	timeouts    Timeouts
	log         *slog.Logger
	errLog      *log.Logger
	pages       *template.Template
	transport   *http.Transport
	upstreams   upstreams // the fast path's connection pools
	buffers     *bufferPool
	loginURL    *url.URL     // nil when Config.LoginURL is ""
	appSessions *appSessions // nil when Config.Sessions is nil
	cookies     cookieFilter // Hearth's cookies, never forwarded
	table       atomic.Pointer[table]
	inflight    inflight

	httpLn, httpsLn            net.Listener
	httpSrv, httpsSrv, portSrv *http.Server
	httpsPort                  int
	reserved                   map[int]string // the proxy's own ports, which routes may not take

	// applyMu serialises Apply. It guards applied, managed and managedOnce.
	applyMu     sync.Mutex
	applied     []Route  // the routes of the current table
	managed     []string // names last given to Certs.Manage
	managedOnce bool

	// mu guards state, ports, base and serving.Add; it is never held while
	// waiting for a request.
	mu         sync.Mutex
	state      runState
	ports      map[int]net.Listener // open per-route listeners by port
	base       context.Context      // parent of every request context; set by Run
	cancelBase context.CancelFunc
	serving    sync.WaitGroup // Serve goroutines
}

// New checks cfg and binds the HTTP and HTTPS listeners, so that Addrs is
// known at once. Run serves them and closes them when it returns; a Proxy that
// is never run must be closed with Close.
func New(cfg Config) (*Proxy, error) {
	if cfg.HTTPAddr == "" {
		return nil, errors.New("config.HTTPAddr: required")
	}
	if cfg.HTTPSAddr == "" {
		return nil, errors.New("config.HTTPSAddr: required")
	}
	if cfg.Certs == nil {
		return nil, errors.New("config.Certs: required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	base := cfg.Certs.TLSConfig()
	if base == nil || base.GetCertificate == nil {
		return nil, errors.New("config.Certs: TLSConfig must set GetCertificate")
	}
	p := &Proxy{
		cfg:      cfg,
		timeouts: cfg.Timeouts.withDefaults(),
		log:      cfg.Logger.With("component", "proxy"),
		buffers:  newBufferPool(),
		ports:    map[int]net.Listener{},
	}
	p.errLog = slog.NewLogLogger(p.log.Handler(), slog.LevelDebug)
	p.transport = newTransport(p.timeouts)
	p.upstreams.dialTimeout = p.timeouts.UpstreamDial
	p.table.Store(emptyTable())
	if cfg.LoginURL != "" {
		u, err := url.Parse(cfg.LoginURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
			return nil, fmt.Errorf("config.LoginURL: %q must be an absolute http(s) URL without fragment", cfg.LoginURL)
		}
		p.loginURL = u
	}
	if cfg.Sessions != nil {
		p.appSessions = newAppSessions(cfg.Sessions, time.Now)
	}
	p.cookies = newCookieFilter(cfg.SessionCookie)
	if (cfg.Own == nil) != (cfg.OwnHost == nil) {
		return nil, errors.New("config.Own and config.OwnHost: set both or neither")
	}
	if cfg.SessionCookie != "" && !validCookieName(cfg.SessionCookie) {
		return nil, fmt.Errorf("config.SessionCookie: %q is not a cookie name", cfg.SessionCookie)
	}
	var err error
	if p.pages, err = parsePageTemplate(); err != nil {
		return nil, err
	}
	if p.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("config.HTTPAddr: %w", err)
	}
	if p.httpsLn, err = net.Listen("tcp", cfg.HTTPSAddr); err != nil {
		_ = p.httpLn.Close()
		return nil, fmt.Errorf("config.HTTPSAddr: %w", err)
	}
	p.httpsPort = p.httpsLn.Addr().(*net.TCPAddr).Port
	p.reserved = map[int]string{p.httpLn.Addr().(*net.TCPAddr).Port: "HTTP", p.httpsPort: "HTTPS"}

	httpSrv := p.newServer(cfg.Certs.HTTPChallengeHandler(http.HandlerFunc(p.serveHTTP)), nil)
	// Port 80 only redirects and answers challenges: it may be strict.
	httpSrv.ReadTimeout, httpSrv.WriteTimeout = 30*time.Second, 30*time.Second
	p.httpSrv = httpSrv

	mainTLS := base.Clone()
	if mainTLS.MinVersion < tls.VersionTLS12 {
		mainTLS.MinVersion = tls.VersionTLS12
	}
	p.httpsSrv = p.newServer(http.HandlerFunc(p.serveHTTPS), mainTLS)
	p.portSrv = p.newServer(http.HandlerFunc(p.servePort), p.portTLS(mainTLS))
	return p, nil
}

func (p *Proxy) newServer(h http.Handler, tlsCfg *tls.Config) *http.Server {
	return &http.Server{
		Handler:           p.tracked(h),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: p.timeouts.ReadHeader,
		IdleTimeout:       p.timeouts.Idle,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          p.errLog,
		BaseContext:       func(net.Listener) context.Context { return p.baseContext() },
	}
}

func (p *Proxy) baseContext() context.Context {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.base
}

// portTLS is the TLS configuration of the per-route ports: whatever name the
// client asks for, a port serves the certificate of its route's PortHost.
func (p *Proxy) portTLS(mainTLS *tls.Config) *tls.Config {
	c := mainTLS.Clone()
	c.NextProtos = slices.DeleteFunc(slices.Clone(c.NextProtos), func(s string) bool { return s == "acme-tls/1" })
	get := mainTLS.GetCertificate
	c.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		e := p.table.Load().ports[portOf(hello.Conn.LocalAddr())]
		if e == nil {
			return nil, errors.New("no route on this port")
		}
		h := *hello
		h.ServerName = e.route.PortHost
		return get(&h)
	}
	return c
}

// Addrs returns the bound HTTP and HTTPS addresses.
func (p *Proxy) Addrs() (httpAddr, httpsAddr string) {
	return p.httpLn.Addr().String(), p.httpsLn.Addr().String()
}

// PortAddr returns the bound address of a route's own port, and false if the
// route has none or is unknown.
func (p *Proxy) PortAddr(routeID string) (string, bool) {
	e := p.table.Load().ids[routeID]
	if e == nil || e.route.Port == 0 {
		return "", false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.ports[e.route.Port]
	if !ok {
		return "", false
	}
	return l.Addr().String(), true
}

// Close releases the listeners of a Proxy whose Run was never called. It
// does nothing once Run has returned, and fails while Run serves: end Run's
// context instead.
func (p *Proxy) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.state {
	case stateRunning:
		return errors.New("close proxy: Run is serving; cancel its context")
	case stateStopped:
		return nil
	}
	p.state = stateStopped
	p.closePortsLocked()
	return errors.Join(p.httpLn.Close(), p.httpsLn.Close())
}

func (p *Proxy) closePortsLocked() {
	for port, l := range p.ports {
		if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			p.log.Warn("close route port", "port", port, "err", err)
		}
		delete(p.ports, port)
	}
}

// portOf is the port of a TCP address, or 0.
func portOf(a net.Addr) int {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.Port
	}
	if a == nil {
		return 0
	}
	_, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(port)
	return n
}

// validCookieName reports whether s is an RFC 6265 token.
func validCookieName(s string) bool {
	for _, c := range s {
		if c <= ' ' || c >= 0x7f || (c < 0x80 && isSeparator(byte(c))) {
			return false
		}
	}
	return s != ""
}

func isSeparator(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{', '}':
		return true
	}
	return false
}
