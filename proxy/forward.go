package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// bufferSize is the size of the buffers bodies are copied through.
const bufferSize = 32 << 10

// bufferPool recycles copy buffers between requests (httputil.BufferPool).
type bufferPool struct{ pool sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{pool: sync.Pool{New: func() any {
		b := make([]byte, bufferSize)
		return &b
	}}}
}

// Get returns a buffer of bufferSize bytes.
func (b *bufferPool) Get() []byte { return *b.pool.Get().(*[]byte) }

// Put returns a buffer that Get gave out.
func (b *bufferPool) Put(buf []byte) {
	if cap(buf) != bufferSize {
		return
	}
	buf = buf[:bufferSize]
	b.pool.Put(&buf)
}

// newTransport is the one transport to every upstream: plain HTTP/1.1 with
// keep-alive, no environment proxy, no compression of its own.
func newTransport(t Timeouts) *http.Transport {
	d := &net.Dialer{Timeout: t.UpstreamDial, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: t.UpstreamResponseHeader,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		WriteBufferSize:       bufferSize,
		ReadBufferSize:        bufferSize,
	}
}

// setUpstream gives a route's entry its ways to the upstream: the fast
// path's connection pool (fast.go) and a reverse proxy for the rest.
func (p *Proxy) setUpstream(e *entry, upstream *url.URL) {
	e.up = p.upstreams.get(upstream.Host)
	e.proxy = p.newReverseProxy(e, upstream)
}

// newReverseProxy forwards to one route's upstream.
func (p *Proxy) newReverseProxy(e *entry, upstream *url.URL) *httputil.ReverseProxy {
	target := &url.URL{Scheme: upstream.Scheme, Host: upstream.Host}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // apps build their links from the name they were asked for
			scrubHeaders(pr.Out.Header, p.cookies)
			pr.SetXForwarded()
		},
		Transport:    p.transport,
		BufferPool:   p.buffers,
		ErrorLog:     p.errLog,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { p.upstreamError(w, r, e, err) },
	}
}

// scrubHeaders removes what the client may not say about itself (every
// X-Forwarded-*, Forwarded and the other headers that apps or frameworks read
// as facts about the client or the front end) and Hearth's own cookies.
// The proxy then sets X-Forwarded-For, -Host and -Proto itself.
func scrubHeaders(h http.Header, cookies cookieFilter) {
	for k := range h {
		if scrubbedHeader(k) {
			delete(h, k)
		}
	}
	if lines := h["Cookie"]; len(lines) > 0 {
		if kept := cookies.without(lines); len(kept) == 0 {
			delete(h, "Cookie")
		} else {
			h["Cookie"] = kept
		}
	}
}

// scrubbedHeader reports whether the request header k is one that the
// client may not send (see scrubHeaders).
func scrubbedHeader(k string) bool {
	name := k
	if strings.Contains(k, "_") {
		// Gateways such as CGI read "X_Forwarded_For" as X-Forwarded-For.
		name = textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(k, "_", "-"))
	}
	switch name {
	case "Forwarded", "X-Real-Ip", "X-Client-Ip", "Client-Ip", "True-Client-Ip", "Cf-Connecting-Ip",
		"X-Cluster-Client-Ip", "Front-End-Https", "X-Original-Url", "X-Rewrite-Url":
		return true
	}
	return strings.HasPrefix(name, "X-Forwarded-")
}

// cookieFilter names Hearth's cookies, which no app may see: the UI's
// session cookie (and its __Host- form), and every per-route cookie.
type cookieFilter struct {
	names []string
}

func newCookieFilter(sessionCookie string) cookieFilter {
	f := cookieFilter{names: []string{AppCookiePrefix}}
	if sessionCookie != "" {
		f.names = append(f.names, sessionCookie, "__Host-"+sessionCookie)
	}
	return f
}

// drops reports whether the cookie name is Hearth's.
func (f cookieFilter) drops(name string) bool {
	if strings.HasPrefix(name, AppCookiePrefix) {
		return true
	}
	return slices.Contains(f.names[1:], name)
}

// mentions reports whether a Cookie line may hold one of Hearth's cookies.
func (f cookieFilter) mentions(line string) bool {
	for _, n := range f.names {
		if strings.Contains(line, n) {
			return true
		}
	}
	return false
}

// without returns the Cookie header lines without Hearth's cookies (lines
// itself when no line mentions one).
func (f cookieFilter) without(lines []string) []string {
	if !slices.ContainsFunc(lines, f.mentions) {
		return lines
	}
	var kept []string
	for _, line := range lines {
		if !f.mentions(line) {
			kept = append(kept, line)
			continue
		}
		var parts []string
		for part := range strings.SplitSeq(line, ";") {
			part = textproto.TrimString(part)
			if n, _, _ := strings.Cut(part, "="); f.drops(textproto.TrimString(n)) || part == "" {
				continue
			}
			parts = append(parts, part)
		}
		if len(parts) > 0 {
			kept = append(kept, strings.Join(parts, "; "))
		}
	}
	return kept
}

// upstreamError answers when forwarding failed before the upstream's
// response began: the body was too big (413), the client left (nothing to
// answer, logged as 499), the upstream could not be reached (502) or was too
// slow to answer (504),
// each with the friendly page instead of a bare status.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, e *entry, err error) {
	var tooBig *http.MaxBytesError
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.As(err, &tooBig):
		p.renderPage(w, tooLargePage(e.route, e.limit))
	case r.Context().Err() != nil:
		if rec, ok := w.(*recorder); ok {
			rec.status = statusClientGone
		}
		w.WriteHeader(http.StatusBadGateway)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		p.log.Warn("upstream unreachable", "route", e.route.ID, "err", err)
		p.renderPage(w, unreachablePage(e.route))
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		p.log.Warn("upstream timeout", "route", e.route.ID, "err", err)
		p.renderPage(w, timeoutPage(e.route))
	default:
		p.log.Warn("upstream unreachable", "route", e.route.ID, "err", err)
		p.renderPage(w, unreachablePage(e.route))
	}
}
