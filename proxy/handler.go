package proxy

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// hstsValue is sent on routes with Route.HSTS, for names not under .local.
const hstsValue = "max-age=31536000"

// serveHTTP is port 80 behind the ACME challenge handler: hosts with a route
// (or a live old name) are redirected to HTTPS, the box's own names get its
// own pages (Config.Own), anything else gets the "no app here" page.
// Nothing is forwarded from plain HTTP.
func (p *Proxy) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	t := p.table.Load()
	host := canonicalHost(r.Host)
	id := ""
	if e, ok := t.hosts[host]; ok {
		id = e.route.ID
		redirect(rec, p.httpsURL(host, r), http.StatusPermanentRedirect)
	} else if o, ok := t.old[host]; ok && start.Before(o.until) {
		id = o.to.route.ID
		redirect(rec, p.httpsURL(o.to.route.Hosts[0], r), http.StatusPermanentRedirect)
	} else if p.cfg.Own != nil && p.cfg.OwnHost(host) {
		p.cfg.Own.ServeHTTP(rec, r)
	} else {
		p.renderPage(rec, notFoundPage())
	}
	p.logAccess(r, id, rec, start)
}

// serveHTTPS is the HTTPS port: routes by host name.
func (p *Proxy) serveHTTPS(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	t := p.table.Load()
	host := canonicalHost(r.Host)
	id := ""
	if e, ok := t.hosts[host]; ok {
		id = e.route.ID
		if e.route.HSTS && !isLocalName(host) {
			rec.Header().Set("Strict-Transport-Security", hstsValue)
		}
		p.serveRoute(rec, r, e, false)
	} else if o, ok := t.old[host]; ok && start.Before(o.until) {
		id = o.to.route.ID
		redirect(rec, p.httpsURL(o.to.route.Hosts[0], r), http.StatusPermanentRedirect)
	} else {
		p.renderPage(rec, notFoundPage())
	}
	p.logAccess(r, id, rec, start)
}

// servePort is a route's own port: the route is chosen by the port the
// connection came in on, whatever the Host header says.
func (p *Proxy) servePort(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	id := ""
	if e := p.table.Load().ports[portOf(local)]; e != nil {
		id = e.route.ID
		p.serveRoute(rec, r, e, true)
	} else {
		p.renderPage(rec, notFoundPage())
	}
	p.logAccess(r, id, rec, start)
}

// serveRoute applies a route's rules and forwards. onPort says the client
// came in on the route's own port (for the login link's origin).
func (p *Proxy) serveRoute(w *recorder, r *http.Request, e *entry, onPort bool) {
	if r.Method == http.MethodConnect {
		p.renderPage(w, page{Status: http.StatusMethodNotAllowed, Heading: "Not allowed", Text: "This method is not forwarded to apps."})
		return
	}
	if e.route.Protected {
		if r.URL.Path == AuthPath {
			p.serveAuth(w, r, e, onPort)
			return
		}
		if !p.authorized(r, e) {
			p.refuse(w, r, e, onPort)
			return
		}
	}
	if e.proxy == nil || e.route.State != StateRunning {
		p.renderPage(w, statePage(e.route))
		return
	}
	if r.ContentLength > e.limit {
		p.renderPage(w, tooLargePage(e.route, e.limit))
		return
	}
	if fastPathOK(r) {
		p.forward(w, r, e)
		return
	}
	// Counted as it streams; the error handler turns the overflow into 413.
	r.Body = http.MaxBytesReader(w.ResponseWriter, r.Body, e.limit)
	e.proxy.ServeHTTP(w, r)
}

// refuse answers a request without a live app session: a browser
// navigating is sent to the UI's handoff, anything else gets 401.
func (p *Proxy) refuse(w *recorder, r *http.Request, e *entry, onPort bool) {
	login := p.loginLink(r, e, onPort, r.URL.RequestURI())
	if login != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		strings.Contains(r.Header.Get("Accept"), "text/html") {
		redirect(w, login, http.StatusSeeOther)
		return
	}
	p.renderPage(w, unauthorizedPage(e.route, login))
}

// loginLink is the UI's handoff for route e, to come back to path (a path
// and query) on the origin the client reached: LoginURL with app=<scope>
// and next=<origin><path>. It is "" without a LoginURL or Sessions.
func (p *Proxy) loginLink(r *http.Request, e *entry, onPort bool, path string) string {
	if p.loginURL == nil || p.appSessions == nil {
		return ""
	}
	// The scheme and authority under which the client reached the route.
	origin := "https://" + r.Host
	if onPort {
		origin = "https://" + net.JoinHostPort(e.route.PortHost, strconv.Itoa(e.route.Port))
	}
	u := *p.loginURL
	q := u.Query()
	q.Set("app", authScope(e.route))
	q.Set("next", origin+path)
	u.RawQuery = q.Encode()
	return u.String()
}

// httpsURL is the HTTPS address of r's path and query on host.
func (p *Proxy) httpsURL(host string, r *http.Request) string {
	authority := host
	if p.httpsPort != 443 {
		authority = net.JoinHostPort(host, strconv.Itoa(p.httpsPort))
	}
	return "https://" + authority + r.URL.RequestURI()
}
