package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// contentSecurityPolicy allows the UI's own script and style files and
// nothing inline.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// maxFormBytes bounds a form's body.
const maxFormBytes = 64 << 10

// csrfField is the name of every form's CSRF token field.
const csrfField = "csrf"

// setSecurityHeaders sets the headers of every response.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// hostAllowed reports whether the Host header names this box: an IP
// literal or one of Config.AllowedHosts. The port is not compared.
func (u *UI) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return false
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if u.cfg.AllowedHosts == nil {
		return false
	}
	for _, a := range u.cfg.AllowedHosts() {
		if strings.EqualFold(strings.TrimSuffix(a, "."), host) {
			return true
		}
	}
	return false
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// Reasons an unsafe request is refused.
var (
	errCrossSite = errors.New("cross-site request")
	errCSRF      = errors.New("missing or wrong csrf token")
)

// checkUnsafe guards a request that changes something: it must come from
// this origin (Sec-Fetch-Site and Origin, when the browser sends them) and
// carry the CSRF token of its client in the form.
func (u *UI) checkUnsafe(w http.ResponseWriter, r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return fmt.Errorf("sec-fetch-site %q: %w", site, errCrossSite)
	}
	// Origin "null" is what browsers send on a same-origin POST from a
	// page with Referrer-Policy: no-referrer (ours, by design): it proves
	// nothing either way, and Sec-Fetch-Site and the token still decide.
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
		o, err := url.Parse(origin)
		if err != nil || o.Scheme != u.scheme(r) || !strings.EqualFold(o.Host, r.Host) {
			return fmt.Errorf("origin %q: %w", origin, errCrossSite)
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("form: %w", err)
	}
	binding := u.binding(r)
	if binding == "" {
		return errCSRF
	}
	got := r.PostForm.Get(csrfField)
	if !hmac.Equal([]byte(got), []byte(u.csrfToken(binding))) {
		return errCSRF
	}
	return nil
}

// scheme is how the browser reached the UI.
func (u *UI) scheme(r *http.Request) string {
	if u.secure(r) {
		return "https"
	}
	return "http"
}

func (u *UI) secure(r *http.Request) bool { return u.cfg.Secure || r.TLS != nil }

// binding is the secret a client's CSRF tokens are bound to: its session
// token, else its setup token, else its pre-session cookie.
func (u *UI) binding(r *http.Request) string {
	for _, name := range []string{cookieSession, cookieSetup, cookieCSRF} {
		if v := u.cookie(r, name); v != "" {
			return name + "\x00" + v
		}
	}
	return ""
}

// csrfToken is the token of a binding: an HMAC under the process's key.
func (u *UI) csrfToken(binding string) string {
	m := hmac.New(sha256.New, u.key[:])
	m.Write([]byte("hearth-csrf\x00"))
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// formToken returns the CSRF token for the forms of the page being
// rendered; a client with no cookie yet gets a pre-session one first.
func (u *UI) formToken(w http.ResponseWriter, r *http.Request) string {
	if b := u.binding(r); b != "" {
		return u.csrfToken(b)
	}
	v := randomToken()
	u.setCookie(w, r, cookieCSRF, v, 0)
	// Later reads of r see it too (the page may render more than once).
	r.AddCookie(&http.Cookie{Name: u.cookieName(r, cookieCSRF), Value: v})
	return u.csrfToken(cookieCSRF + "\x00" + v)
}

// randomToken is 32 random bytes, base64url.
func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
