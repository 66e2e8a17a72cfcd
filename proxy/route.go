package proxy

import (
	"context"
	"crypto/tls"
	"net/http"
	"time"
)

// Route states, as shown on the friendly page.
const (
	StateRunning  = "running"
	StateStarting = "starting"
	StateStopped  = "stopped"
	StateUpdating = "updating"
)

// DefaultMaxUploadBytes is the request body limit of a route that sets none.
const DefaultMaxUploadBytes int64 = 10 << 30

// Route is one thing the proxy serves: a set of host names and optionally a
// stable TLS port, forwarded to one upstream.
type Route struct {
	// ID is an opaque key (the agent uses the app id), used in logs and
	// access log entries.
	ID string
	// Title is shown on the friendly page.
	Title string
	// Hosts are the names answered on the HTTP and HTTPS ports, such as
	// "hello.hearth.local" and "hello.example.org". Hosts[0] is the name old
	// hosts redirect to.
	Hosts []string
	// Port is a stable extra TLS port on the box for this route (0 = none),
	// reached as "<box>.local:<port>".
	Port int
	// PortHost is the name whose certificate Port serves ("hearth.local").
	PortHost string
	// Upstream is where requests go, "http://10.89.0.2:8080": plain HTTP to a
	// private or loopback IP address. "" means not reachable now, and the
	// friendly page is shown.
	Upstream string
	// State is one of StateRunning, StateStarting, StateStopped and
	// StateUpdating. Any state but running shows the friendly page (HTTP 503
	// with Retry-After).
	State string
	// Protected routes pass only browsers signed in to Hearth, through the
	// handoff of Config.Sessions; they answer AuthPath themselves.
	Protected bool
	// AuthScope is what a protected route's tickets and cookies are bound
	// to (default ID): routes that serve the same thing share one, so one
	// sign-in opens it under each of its names.
	AuthScope string
	// MaxUploadBytes limits request bodies (0 = DefaultMaxUploadBytes).
	// Bodies are counted as they stream; a bigger one gets 413.
	MaxUploadBytes int64
	// OldHosts are names the route had before: they redirect (308) to the same
	// path on Hosts[0] until their Until.
	OldHosts []Redirect
	// HSTS sends Strict-Transport-Security. Set it only for publicly trusted
	// names; the proxy never sends it for names under .local.
	HSTS bool
}

// Redirect is an old host name that redirects to its route until Until.
type Redirect struct {
	Host  string
	Until time.Time
}

// Certs provides the certificates the proxy serves. *certs.Manager
// satisfies it.
type Certs interface {
	// TLSConfig returns a configuration whose GetCertificate answers for
	// every managed name, with NextProtos h2 and http/1.1 (and acme-tls/1).
	TLSConfig() *tls.Config
	// HTTPChallengeHandler answers ACME HTTP-01 challenges on port 80 and
	// passes everything else to next.
	HTTPChallengeHandler(next http.Handler) http.Handler
	// Manage is given the full set of names that need certificates. It is
	// idempotent.
	Manage(ctx context.Context, names []string) error
}
