package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxAnswer bounds a JSON answer the client reads.
const maxAnswer = 64 << 20

// Client is a Service that talks to hearthd over its socket. The hearth
// CLI uses it; errors from the server come back as *Error values that
// match the sentinels with errors.Is, and a failed connection matches
// ErrUnreachable.
type Client struct {
	socket string
	hc     *http.Client
}

var _ Service = (*Client)(nil)

// NewClient returns a Client for the socket at socketPath. It connects on
// the first call.
func NewClient(socketPath string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "unix", socketPath)
			if err != nil {
				return nil, &unreachableError{socket: socketPath, err: err}
			}
			return c, nil
		},
		MaxIdleConns:       4,
		IdleConnTimeout:    30 * time.Second,
		DisableCompression: true,
	}
	return &Client{socket: socketPath, hc: &http.Client{Transport: tr}}
}

// Socket returns the socket path the client talks to.
func (c *Client) Socket() string { return c.socket }

// CloseIdleConnections closes the connections the client keeps for reuse.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// send makes a request and returns the answer when it is a success; the
// caller closes its body.
func (c *Client) send(ctx context.Context, method, path string, q url.Values, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	u := "http://hearthd" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *unreachableError
		if errors.As(err, &ue) {
			return nil, ue
		}
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, answerError(resp)
	}
	return resp, nil
}

// answerError turns an error answer into an *Error.
func answerError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	var er ErrorResponse
	if err := json.Unmarshal(b, &er); err == nil && er.Code != "" {
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && er.Code == CodeTooMany {
			return &RetryError{After: time.Duration(secs) * time.Second}
		}
		return &Error{Status: resp.StatusCode, Code: er.Code, Message: er.Error}
	}
	msg := strings.TrimSpace(string(b))
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &Error{Status: resp.StatusCode, Code: codeForStatus(resp.StatusCode), Message: "hearthd answered " + resp.Status + ": " + msg}
}

// call makes a request and decodes a JSON answer into out (if not nil).
func (c *Client) call(ctx context.Context, method, path string, q url.Values, body, out any) error {
	resp, err := c.send(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// Status implements Service.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.call(ctx, http.MethodGet, "/v1/status", nil, nil, &st)
	return st, err
}

// Catalogs implements Service.
func (c *Client) Catalogs(ctx context.Context) ([]Catalog, error) {
	var cs []Catalog
	err := c.call(ctx, http.MethodGet, "/v1/catalogs", nil, nil, &cs)
	return cs, err
}

// RefreshCatalogs implements Service.
func (c *Client) RefreshCatalogs(ctx context.Context, id string) ([]Catalog, error) {
	var cs []Catalog
	err := c.call(ctx, http.MethodPost, "/v1/catalogs/refresh", nil, RefreshCatalogsRequest{ID: id}, &cs)
	return cs, err
}

// AddCatalog implements Service.
func (c *Client) AddCatalog(ctx context.Context, req AddCatalogRequest) (Catalog, error) {
	var cat Catalog
	err := c.call(ctx, http.MethodPost, "/v1/catalogs", nil, req, &cat)
	return cat, err
}

// RemoveCatalog implements Service.
func (c *Client) RemoveCatalog(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodDelete, "/v1/catalogs/"+url.PathEscape(id), nil, nil, nil)
}

// CatalogApps implements Service.
func (c *Client) CatalogApps(ctx context.Context, catalogID string) ([]CatalogApp, error) {
	var q url.Values
	if catalogID != "" {
		q = url.Values{"catalog": {catalogID}}
	}
	var apps []CatalogApp
	err := c.call(ctx, http.MethodGet, "/v1/store", q, nil, &apps)
	return apps, err
}

// Apps implements Service.
func (c *Client) Apps(ctx context.Context) ([]App, error) {
	var apps []App
	err := c.call(ctx, http.MethodGet, "/v1/apps", nil, nil, &apps)
	return apps, err
}

// App implements Service.
func (c *Client) App(ctx context.Context, id string) (App, error) {
	var a App
	err := c.call(ctx, http.MethodGet, appPath(id), nil, nil, &a)
	return a, err
}

// Install implements Service.
func (c *Client) Install(ctx context.Context, req InstallRequest) (Operation, error) {
	var op Operation
	err := c.call(ctx, http.MethodPost, "/v1/apps", nil, req, &op)
	return op, err
}

// Start implements Service.
func (c *Client) Start(ctx context.Context, id string) (Operation, error) {
	return c.action(ctx, id, "start", nil)
}

// Stop implements Service.
func (c *Client) Stop(ctx context.Context, id string) (Operation, error) {
	return c.action(ctx, id, "stop", nil)
}

// Restart implements Service.
func (c *Client) Restart(ctx context.Context, id string) (Operation, error) {
	return c.action(ctx, id, "restart", nil)
}

// Update implements Service.
func (c *Client) Update(ctx context.Context, id, version string) (Operation, error) {
	return c.action(ctx, id, "update", UpdateRequest{Version: version})
}

// Move implements Service.
func (c *Client) Move(ctx context.Context, id, name string) (App, error) {
	var app App
	err := c.call(ctx, http.MethodPost, appPath(id)+"/move", nil, MoveRequest{Name: name}, &app)
	return app, err
}

// UpdateManifest implements Service.
func (c *Client) UpdateManifest(ctx context.Context, id string, manifest json.RawMessage) (Operation, error) {
	return c.action(ctx, id, "update", UpdateRequest{Manifest: manifest})
}

// Rollback implements Service.
func (c *Client) Rollback(ctx context.Context, id string) (Operation, error) {
	return c.action(ctx, id, "rollback", nil)
}

func (c *Client) action(ctx context.Context, id, action string, body any) (Operation, error) {
	var op Operation
	err := c.call(ctx, http.MethodPost, appPath(id)+"/"+action, nil, body, &op)
	return op, err
}

// Uninstall implements Service.
func (c *Client) Uninstall(ctx context.Context, id string, keepData bool) (Operation, error) {
	var op Operation
	q := url.Values{"keepData": {strconv.FormatBool(keepData)}}
	err := c.call(ctx, http.MethodDelete, appPath(id), q, nil, &op)
	return op, err
}

// Operation implements Service.
func (c *Client) Operation(ctx context.Context, id string) (Operation, error) {
	var op Operation
	err := c.call(ctx, http.MethodGet, "/v1/operations/"+url.PathEscape(id), nil, nil, &op)
	return op, err
}

// Activity implements Service.
func (c *Client) Activity(ctx context.Context, since uint64, limit int) ([]Activity, error) {
	q := url.Values{}
	if since > 0 {
		q.Set("since", strconv.FormatUint(since, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var acts []Activity
	err := c.call(ctx, http.MethodGet, "/v1/activity", q, nil, &acts)
	return acts, err
}

func appPath(id string) string { return "/v1/apps/" + url.PathEscape(id) }
