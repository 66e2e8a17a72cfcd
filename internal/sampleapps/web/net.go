package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
)

// handleDial opens a TCP connection to addr and closes it.
func (a *app) handleDial(w http.ResponseWriter, r *http.Request) {
	addr := r.URL.Query().Get("addr")
	if _, _, err := net.SplitHostPort(addr); err != nil {
		badRequest(w, fmt.Errorf("parameter addr %q: want host:port", addr))
		return
	}
	ms, err := intParam(r, "timeout", 2000, 1, 60_000)
	if err != nil {
		badRequest(w, err)
		return
	}
	d := net.Dialer{Timeout: time.Duration(ms) * time.Millisecond}
	conn, err := d.DialContext(r.Context(), "tcp", addr)
	if err != nil {
		fail(w, err)
		return
	}
	_ = conn.Close()
	ok(w)
}

// handleResolve answers a JSON array of name's addresses.
func (a *app) handleResolve(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" || len(name) > 253 {
		badRequest(w, fmt.Errorf("parameter name %q: want a host name", name))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil {
		fail(w, err)
		return
	}
	sort.Strings(addrs)
	writeJSON(w, addrs)
}

// handlePeer increments the counter "hits" in the store app and answers its
// new value.
func (a *app) handlePeer(w http.ResponseWriter, r *http.Request) {
	url := strings.TrimSuffix(a.cfg.StoreURL, "/") + "/kv/hits/incr"
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, url, nil)
	if err != nil {
		fail(w, fmt.Errorf("store url: %w", err))
		return
	}
	resp, err := a.client.Do(req)
	if err != nil {
		fail(w, err)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		fail(w, fmt.Errorf("read store answer: %w", err))
		return
	}
	if resp.StatusCode != http.StatusOK {
		fail(w, fmt.Errorf("store answered %s: %s", resp.Status, strings.TrimSpace(string(body))))
		return
	}
	text(w, strings.TrimSpace(string(body))+"\n")
}
