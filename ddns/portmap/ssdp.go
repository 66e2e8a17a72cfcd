package portmap

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"time"
)

// defaultSSDP is where SSDP searches go: the UPnP multicast group.
var defaultSSDP = netip.MustParseAddrPort("239.255.255.250:1900")

// searchTargets are the device types searched for, newest first.
var searchTargets = []string{
	"urn:schemas-upnp-org:device:InternetGatewayDevice:2",
	"urn:schemas-upnp-org:device:InternetGatewayDevice:1",
}

// mSearch is one SSDP M-SEARCH request.
func mSearch(target netip.AddrPort, st string) []byte {
	return []byte("M-SEARCH * HTTP/1.1\r\n" +
		"HOST: " + target.String() + "\r\n" +
		"MAN: \"ssdp:discover\"\r\n" +
		"MX: 2\r\n" +
		"ST: " + st + "\r\n" +
		"USER-AGENT: Linux UPnP/1.1 Hearth/1\r\n\r\n")
}

// ssdpSearch multicasts M-SEARCH to target and gives try every answer's
// description URL until try succeeds or timeout passes. A location must
// be plain HTTP on the address the answer came from: a device on the LAN
// cannot send the box to fetch from elsewhere.
func ssdpSearch(ctx context.Context, target netip.AddrPort, timeout time.Duration, try func(context.Context, *url.URL) error) error {
	c, err := net.ListenUDP("udp4", nil)
	if err != nil {
		return fmt.Errorf("ssdp: listen: %w", err)
	}
	defer c.Close()
	dst := net.UDPAddrFromAddrPort(target)
	for _, st := range searchTargets {
		if _, err := c.WriteToUDP(mSearch(target, st), dst); err != nil {
			return fmt.Errorf("ssdp: send to %s: %w", target, err)
		}
	}
	end := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(end) {
		end = dl
	}
	_ = c.SetReadDeadline(end)
	defer context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Now()) })()
	seen := map[string]bool{}
	var last error
	buf := make([]byte, 4096)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			break
		}
		if err != nil {
			return fmt.Errorf("ssdp: read: %w", err)
		}
		loc, err := parseSSDPReply(buf[:n], from.Addr().Unmap())
		if err != nil {
			last = err
			continue
		}
		if seen[loc.String()] {
			continue
		}
		seen[loc.String()] = true
		if last = try(ctx, loc); last == nil {
			return nil
		}
	}
	if last != nil {
		return fmt.Errorf("ssdp: no usable gateway: %w", last)
	}
	return fmt.Errorf("upnp: no answer to SSDP search on %s after %s: %w", target, timeout, errNoAnswer)
}

// parseSSDPReply reads an M-SEARCH answer and checks its LOCATION.
func parseSSDPReply(b []byte, from netip.Addr) (*url.URL, error) {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		return nil, fmt.Errorf("ssdp: answer from %s: %w: %w", from, ErrProtocol, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("ssdp: answer from %s: status %d: %w", from, resp.StatusCode, ErrProtocol)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Scheme != "http" {
		return nil, fmt.Errorf("ssdp: answer from %s: location %q is not an http URL: %w", from, resp.Header.Get("Location"), ErrProtocol)
	}
	if err := sameHost(loc, from); err != nil {
		return nil, fmt.Errorf("ssdp: answer from %s: location: %w", from, err)
	}
	return loc, nil
}

// sameHost accepts only a URL whose host is the address ip.
func sameHost(u *url.URL, ip netip.Addr) error {
	h, err := netip.ParseAddr(u.Hostname())
	if err != nil || h.Unmap() != ip {
		return fmt.Errorf("%q is not on the router's address %s: %w", u.Redacted(), ip, ErrProtocol)
	}
	return nil
}
