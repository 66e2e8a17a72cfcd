package portmap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"
)

// firstRetransmit is NAT-PMP's and PCP's first wait for an answer; it
// doubles for every retransmission (RFC 6886 3.1, RFC 6887 8.1.1).
const firstRetransmit = 250 * time.Millisecond

// errNoAnswer: the router said nothing before the time ran out.
var errNoAnswer = errors.New("no answer")

// exchange sends req to the router over a connected UDP socket (which
// receives only from the router's address) and returns the first answer
// that accept takes, retransmitting with doubling waits until timeout.
func exchange(ctx context.Context, router netip.AddrPort, timeout time.Duration, req []byte, accept func([]byte) bool) ([]byte, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", router.String())
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", router, err)
	}
	defer c.Close()
	// A cancelled ctx ends the wait for an answer at once.
	defer context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Now()) })()
	end := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(end) {
		end = dl
	}
	buf := make([]byte, 1100) // PCP's largest message
	wait := firstRetransmit
	for time.Now().Before(end) && ctx.Err() == nil {
		if _, err := c.Write(req); err != nil {
			return nil, fmt.Errorf("send to %s: %w", router, err)
		}
		next := time.Now().Add(wait)
		if next.After(end) {
			next = end
		}
		wait *= 2
		_ = c.SetReadDeadline(next)
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			n, err := c.Read(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				// ICMP port unreachable: nothing listens there.
				return nil, fmt.Errorf("%s: %w: %w", router, errNoAnswer, err)
			}
			if accept(buf[:n]) {
				return append([]byte(nil), buf[:n]...), nil
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%s after %s: %w", router, timeout, errNoAnswer)
}
