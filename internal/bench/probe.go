package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// prober polls a container's HTTP endpoint until it answers 200.
type prober struct {
	client *http.Client
	every  time.Duration
	path   string
	port   uint16
}

// newProber returns a prober that asks http://IP:port/path every interval,
// each time on a new connection, without proxies.
func newProber(port uint16, path string, every time.Duration) *prober {
	tr := &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		DialContext:       (&net.Dialer{Timeout: time.Second}).DialContext,
	}
	return &prober{client: &http.Client{Transport: tr, Timeout: 2 * time.Second}, every: every, path: path, port: port}
}

// wait asks ip until it answers 200 and returns when it did. The first
// attempt is made at once; a failed attempt is retried on the next tick.
func (p *prober) wait(ctx context.Context, ip netip.Addr) (time.Time, error) {
	url := fmt.Sprintf("http://%s%s", netip.AddrPortFrom(ip, p.port), p.path)
	t := time.NewTicker(p.every)
	defer t.Stop()
	var last error
	for {
		at, err := p.get(ctx, url)
		if err == nil {
			return at, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%s never answered 200: %w (last: %v)", url, ctx.Err(), last)
		case <-t.C:
		}
	}
}

// get asks url once and returns the time the 200 status arrived.
func (p *prober) get(ctx context.Context, url string) (time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return time.Time{}, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	at := time.Now()
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return at, nil
}
