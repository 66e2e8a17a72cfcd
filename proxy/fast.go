package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"time"
)

// The fast path forwards the common request, a GET or HEAD without a body
// and without an upgrade, on the request's own goroutine: it writes the
// request head straight to a pooled upstream connection and reads the
// response back with http.ReadResponse. httputil.ReverseProxy and
// http.Transport do the same with a cloned request, two goroutines per
// upstream connection and channel hand-offs between them, which under load
// cost the proxy about as much CPU as the TLS it terminates. Everything else
// (bodies and their limits, WebSockets, Expect) goes through
// httputil.ReverseProxy as before. The two paths send the same headers:
// scrubHeaders' rules, hop-by-hop headers removed, X-Forwarded-For, -Host
// and -Proto set by the proxy, the client's Host kept.

// errUnexpectedSwitch is an upstream answering 101 to a request that asked
// for no upgrade.
var errUnexpectedSwitch = errors.New("upstream switched protocols unasked")

// errBadHeader is a header value that would break the request head (net/http
// never passes one on; checked all the same, since it would let a client
// smuggle a request to the app).
var errBadHeader = errors.New("header value with a line break")

// maxAttempts bounds how often the fast path sends one request (after
// stale pooled connections).
const maxAttempts = 3

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// fastPathOK reports whether r can take the fast path.
func fastPathOK(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	// No body, by httputil.ReverseProxy's rule (HTTP/2 requests have a
	// Body even when their stream ended with the headers).
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		return false
	}
	if r.URL.Opaque != "" || !strings.HasPrefix(r.URL.Path, "/") {
		return false
	}
	if _, ok := r.Header["Upgrade"]; ok {
		return false
	}
	if _, ok := r.Header["Expect"]; ok {
		return false
	}
	// Hosts that the transport would rewrite (IDNA, IPv6 zones) go the
	// slow way.
	for i := 0; i < len(r.Host); i++ {
		if c := r.Host[i]; c >= 0x80 || c == '%' {
			return false
		}
	}
	return true
}

// forward sends r to e's upstream and copies the answer to w. Failures
// before the answer began get the friendly page (upstreamError); a failure
// while copying the body aborts the client's response, as
// httputil.ReverseProxy does.
func (p *Proxy) forward(w *recorder, r *http.Request, e *entry) {
	ctx := r.Context()
	var (
		c   *upConn
		res *http.Response
		err error
	)
	for attempt := 1; ; attempt++ {
		var reused bool
		c, reused, err = e.up.get(ctx)
		if err != nil {
			p.upstreamError(w, r, e, err)
			return
		}
		// The connection belongs to this request until the body is read:
		// a client that leaves closes it.
		stop := context.AfterFunc(ctx, func() { _ = c.Close() })
		var answered bool
		res, answered, err = p.exchange(c, w, r)
		if err == nil {
			reusable := false
			defer func() {
				if stop() && reusable {
					e.up.put(c)
					return
				}
				_ = c.Close()
			}()
			reusable = p.copyResponse(w, r, res) && !res.Close && c.br.Buffered() == 0
			return
		}
		stop()
		_ = c.Close()
		// A kept-alive connection that the upstream closed meanwhile fails
		// before an answer: GET and HEAD are safe to send again, on a new
		// connection (the others in the pool are likely stale too). A
		// timeout is the upstream being slow, not gone: not repeated.
		if reused && !answered && attempt < maxAttempts && ctx.Err() == nil && !isTimeout(err) && !errors.Is(err, errBadHeader) {
			e.up.closeIdle()
			continue
		}
		p.upstreamError(w, r, e, err)
		return
	}
}

// exchange writes r's head to c and reads the answer's head, passing 1xx
// answers on to w. answered says whether any of the answer arrived (then
// the request is not sent again). The response header timeout ends the wait.
func (p *Proxy) exchange(c *upConn, w http.ResponseWriter, r *http.Request) (res *http.Response, answered bool, err error) {
	if err := c.SetReadDeadline(time.Now().Add(p.timeouts.UpstreamResponseHeader)); err != nil {
		return nil, false, err
	}
	if err := p.writeHead(c.bw, r); err != nil {
		return nil, false, err
	}
	if err := c.bw.Flush(); err != nil {
		return nil, false, err
	}
	for {
		if _, err := c.br.Peek(1); err != nil {
			return nil, answered, err
		}
		answered = true
		res, err = http.ReadResponse(c.br, r)
		if err != nil {
			return nil, true, fmt.Errorf("read upstream response: %w", err)
		}
		if res.StatusCode == http.StatusSwitchingProtocols {
			return nil, true, errUnexpectedSwitch
		}
		if res.StatusCode >= 200 {
			break
		}
		// 1xx (103 Early Hints): passed on, as httputil.ReverseProxy does.
		h := w.Header()
		for k, vv := range res.Header {
			h[k] = vv
		}
		w.WriteHeader(res.StatusCode)
		for k := range res.Header {
			delete(h, k)
		}
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		return nil, true, err
	}
	return res, true, nil
}

// hopHeaders are removed in both directions (RFC 9110 7.6.1), with the
// headers that Connection names.
var hopHeaders = [...]string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func isHopHeader(k string) bool {
	for _, h := range hopHeaders {
		if k == h {
			return true
		}
	}
	return false
}

// connectionTokens appends to dst the header names that the Connection
// header values conn name, canonical ("close" and "keep-alive", the usual
// ones, name no header but a hop-by-hop one and are left out).
func connectionTokens(dst []string, conn []string) []string {
	for _, v := range conn {
		for tok := range strings.SplitSeq(v, ",") {
			tok = textproto.TrimString(tok)
			if tok == "" || strings.EqualFold(tok, "close") || strings.EqualFold(tok, "keep-alive") {
				continue
			}
			dst = append(dst, textproto.CanonicalMIMEHeaderKey(tok))
		}
	}
	return dst
}

// hopByHop reports whether k is a hop-by-hop header or one of listed (from
// connectionTokens).
func hopByHop(k string, listed []string) bool {
	return isHopHeader(k) || slices.Contains(listed, k)
}

// writeHead writes r's request line and headers as httputil.ReverseProxy
// (with this proxy's Rewrite) and http.Transport would send them.
func (p *Proxy) writeHead(bw *bufio.Writer, r *http.Request) error {
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	bw.WriteString(path)
	if r.URL.ForceQuery || r.URL.RawQuery != "" {
		bw.WriteByte('?')
		bw.WriteString(r.URL.RawQuery)
	}
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(r.Host)
	bw.WriteString("\r\n")
	if ua := r.Header["User-Agent"]; len(ua) > 0 && ua[0] != "" {
		if err := writeField(bw, "User-Agent", ua[0]); err != nil {
			return err
		}
	}
	var listedBuf [4]string
	listed := connectionTokens(listedBuf[:0], r.Header["Connection"])
	for k, vv := range r.Header {
		switch k {
		case "Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		case "Te":
			for _, v := range vv {
				if hasToken(v, "trailers") {
					bw.WriteString("Te: trailers\r\n")
					break
				}
			}
			continue
		case "Cookie":
			vv = p.cookies.without(vv)
		}
		if hopByHop(k, listed) || scrubbedHeader(k) {
			continue
		}
		for _, v := range vv {
			if err := writeField(bw, k, v); err != nil {
				return err
			}
		}
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		bw.WriteString("X-Forwarded-For: ")
		bw.WriteString(ip)
		bw.WriteString("\r\n")
	}
	if err := writeField(bw, "X-Forwarded-Host", r.Host); err != nil {
		return err
	}
	if r.TLS != nil {
		bw.WriteString("X-Forwarded-Proto: https\r\n\r\n")
	} else {
		bw.WriteString("X-Forwarded-Proto: http\r\n\r\n")
	}
	return nil
}

func writeField(bw *bufio.Writer, k, v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("header %s: %w", k, errBadHeader)
	}
	bw.WriteString(k)
	bw.WriteString(": ")
	bw.WriteString(v)
	bw.WriteString("\r\n")
	return nil
}

// hasToken reports whether the comma-separated list v holds token (case
// insensitively).
func hasToken(v, token string) bool {
	for tok := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(textproto.TrimString(tok), token) {
			return true
		}
	}
	return false
}

// copyResponse writes res to w as httputil.ReverseProxy does: hop-by-hop
// headers removed, trailers announced and passed on, the body streamed
// through a pooled buffer and flushed on every write when it has no length
// or is an event stream. It reports whether the body was read to its end.
// A failed copy aborts the client's response (panic http.ErrAbortHandler,
// which net/http turns into a cut connection) so that a client never takes
// a truncated body for a whole one.
func (p *Proxy) copyResponse(w *recorder, r *http.Request, res *http.Response) bool {
	var listedBuf [4]string
	listed := connectionTokens(listedBuf[:0], res.Header["Connection"])
	h := w.Header()
	for k, vv := range res.Header {
		if hopByHop(k, listed) {
			continue
		}
		if len(h[k]) == 0 {
			h[k] = vv
		} else {
			h[k] = append(h[k], vv...)
		}
	}
	announced := len(res.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range res.Trailer {
			keys = append(keys, k)
		}
		h.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(res.StatusCode)

	flush := res.ContentLength == -1 || isEventStream(res.Header.Get("Content-Type"))
	buf := p.buffers.Get()
	defer p.buffers.Put(buf)
	for {
		n, rerr := res.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				panic(http.ErrAbortHandler)
			}
			if flush {
				if ferr := w.FlushError(); ferr != nil {
					panic(http.ErrAbortHandler)
				}
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if r.Context().Err() == nil {
				p.log.Debug("upstream body cut", "err", rerr)
			}
			panic(http.ErrAbortHandler)
		}
	}
	if len(res.Trailer) > 0 {
		// Chunked, so that net/http sends the trailers.
		_ = w.FlushError()
		if len(res.Trailer) == announced {
			for k, vv := range res.Trailer {
				h[k] = append(h[k], vv...)
			}
		} else {
			for k, vv := range res.Trailer {
				for _, v := range vv {
					h.Add(http.TrailerPrefix+k, v)
				}
			}
		}
	}
	return true
}

// isEventStream reports whether a Content-Type is text/event-stream.
func isEventStream(ct string) bool {
	base, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(textproto.TrimString(base), "text/event-stream")
}
