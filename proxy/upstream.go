package proxy

import (
	"bufio"
	"context"
	"net"
	"sync"
	"time"
)

// Limits of the fast path's upstream connections (the same as the
// transport's for the other requests).
const (
	maxIdlePerUpstream = 128
	upstreamIdleTime   = 90 * time.Second
)

// upstream is one upstream address's pool of idle HTTP/1.1 keep-alive
// connections, for the fast path (fast.go). It is safe for concurrent use.
type upstream struct {
	addr   string
	dialer *net.Dialer

	// mu guards idle and closed.
	mu     sync.Mutex
	idle   []idleConn // oldest first; requests take the newest
	closed bool
}

// upConn is one connection to an upstream with its buffers.
type upConn struct {
	net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

type idleConn struct {
	c     *upConn
	since time.Time
}

func newUpstream(addr string, dialTimeout time.Duration) *upstream {
	return &upstream{addr: addr, dialer: &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}}
}

// get returns the most recently used idle connection (reused true) or a new
// one. A dial error is the dialer's (*net.OpError with Op "dial", or the
// context's).
func (u *upstream) get(ctx context.Context) (c *upConn, reused bool, err error) {
	now := time.Now()
	u.mu.Lock()
	u.expireLocked(now)
	if n := len(u.idle); n > 0 {
		c = u.idle[n-1].c
		u.idle[n-1] = idleConn{}
		u.idle = u.idle[:n-1]
	}
	u.mu.Unlock()
	if c != nil {
		return c, true, nil
	}
	nc, err := u.dialer.DialContext(ctx, "tcp", u.addr)
	if err != nil {
		return nil, false, err
	}
	return &upConn{Conn: nc, br: bufio.NewReaderSize(nc, bufferSize), bw: bufio.NewWriterSize(nc, 4<<10)}, false, nil
}

// put keeps c for the next request, or closes it when the pool is full or
// closed.
func (u *upstream) put(c *upConn) {
	now := time.Now()
	u.mu.Lock()
	u.expireLocked(now)
	if u.closed || len(u.idle) >= maxIdlePerUpstream {
		u.mu.Unlock()
		_ = c.Close()
		return
	}
	u.idle = append(u.idle, idleConn{c: c, since: now})
	u.mu.Unlock()
}

// expireLocked closes the connections idle longer than upstreamIdleTime
// (the oldest are first). u.mu must be held.
func (u *upstream) expireLocked(now time.Time) {
	n := 0
	for n < len(u.idle) && now.Sub(u.idle[n].since) > upstreamIdleTime {
		_ = u.idle[n].c.Close()
		n++
	}
	if n > 0 {
		u.idle = append(u.idle[:0], u.idle[n:]...)
		clear(u.idle[len(u.idle):cap(u.idle)])
	}
}

// closeIdle closes every idle connection (a stale one was found: the
// upstream has probably restarted and closed them all).
func (u *upstream) closeIdle() {
	u.mu.Lock()
	idle := u.idle
	u.idle = nil
	u.mu.Unlock()
	for _, ic := range idle {
		_ = ic.c.Close()
	}
}

// close closes the idle connections and makes put close the ones in use.
func (u *upstream) close() {
	u.mu.Lock()
	u.closed = true
	u.mu.Unlock()
	u.closeIdle()
}

// upstreams are the fast path's pools by upstream address, shared by the
// routes of one table and the next.
type upstreams struct {
	dialTimeout time.Duration
	// mu guards byAddr.
	mu     sync.Mutex
	byAddr map[string]*upstream
}

// get returns addr's pool, made if needed.
func (s *upstreams) get(addr string) *upstream {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byAddr == nil {
		s.byAddr = map[string]*upstream{}
	}
	u, ok := s.byAddr[addr]
	if !ok {
		u = newUpstream(addr, s.dialTimeout)
		s.byAddr[addr] = u
	}
	return u
}

// retain closes and forgets the pools of addresses not in keep (nil keep:
// all of them).
func (s *upstreams) retain(keep map[string]bool) {
	s.mu.Lock()
	var gone []*upstream
	for addr, u := range s.byAddr {
		if !keep[addr] {
			gone = append(gone, u)
			delete(s.byAddr, addr)
		}
	}
	s.mu.Unlock()
	for _, u := range gone {
		u.close()
	}
}
