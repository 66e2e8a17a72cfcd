package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
)

// MaxOutputBytes bounds Result.LastOutput.
const MaxOutputBytes = 4096

// maxBodyBytes is how much of an HTTP answer's body is read (and dropped)
// before the connection is closed.
const maxBodyBytes = 64 << 10

// newHTTPClient makes the client of HTTP checks: no proxy, no redirects
// followed, no connection reuse.
func newHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:              nil,
			DialContext:        (&net.Dialer{}).DialContext,
			DisableKeepAlives:  true,
			DisableCompression: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// probe runs one check, bounded by c.Timeout, and says whether it passed and
// what happened.
func probe(ctx context.Context, client *http.Client, c Check, t Target) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	var (
		ok  bool
		out string
		err error
	)
	switch {
	case c.HTTPPath != "":
		ok, out, err = probeHTTP(ctx, client, t.Addr, c.HTTPPort, c.HTTPPath)
	case c.TCPPort != 0:
		ok, out, err = probeTCP(ctx, t.Addr, c.TCPPort)
	default:
		ok, out, err = probeExec(ctx, t.Exec, c.Command)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return false, fmt.Sprintf("timed out after %v", c.Timeout)
	}
	if err != nil {
		return false, truncate(err.Error())
	}
	return ok, truncate(out)
}

func probeHTTP(ctx context.Context, client *http.Client, addr netip.Addr, port int, path string) (bool, string, error) {
	if !addr.IsValid() {
		return false, "", errors.New("no address to probe")
	}
	u := "http://" + netip.AddrPortFrom(addr.WithZone(""), uint16(port)).String() + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, "", fmt.Errorf("http probe: %w", err)
	}
	req.Header.Set("User-Agent", "hearth-health")
	resp, err := client.Do(req)
	if err != nil {
		return false, "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBodyBytes))
	return resp.StatusCode < 400, "HTTP " + resp.Status, nil
}

func probeTCP(ctx context.Context, addr netip.Addr, port int) (bool, string, error) {
	if !addr.IsValid() {
		return false, "", errors.New("no address to probe")
	}
	ap := netip.AddrPortFrom(addr.WithZone(""), uint16(port)).String()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", ap)
	if err != nil {
		return false, "", err
	}
	conn.Close()
	return true, "connected to " + ap, nil
}

func probeExec(ctx context.Context, exec func(context.Context, []string) (int, string, error), argv []string) (bool, string, error) {
	if exec == nil {
		return false, "", errors.New("no way to run a command in the container")
	}
	code, out, err := exec(ctx, argv)
	if err != nil {
		return false, "", err
	}
	if out == "" && code != 0 {
		out = "exit code " + strconv.Itoa(code)
	}
	return code == 0, out, nil
}

// truncate keeps the first MaxOutputBytes of s.
func truncate(s string) string {
	if len(s) > MaxOutputBytes {
		return s[:MaxOutputBytes]
	}
	return s
}
