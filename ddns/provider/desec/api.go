package desec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hearthbox/hearth/ddns/provider/internal/dnsname"
	"github.com/hearthbox/hearth/ddns/provider/internal/httpapi"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is deSEC's API root, used when Provider.BaseURL is empty.
const DefaultBaseURL = "https://desec.io/api/v1"

const (
	// defaultTimeout bounds one HTTP exchange when Provider.HTTPClient is nil.
	defaultTimeout = 30 * time.Second
	// defaultMaxRetryWait is how long a rate-limited request may wait for
	// its retry when Provider.MaxRetryWait is zero.
	defaultMaxRetryWait = 10 * time.Second
	// maxDetail bounds how much of an error answer goes into an error.
	maxDetail = 500
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrInvalid means an argument or a Provider field is not acceptable;
	// the error names it.
	ErrInvalid = dnsname.ErrInvalid // shared by the providers
	// ErrUnauthorized means deSEC refused the token (401 or 403).
	ErrUnauthorized = errors.New("token refused")
	// ErrNotFound means deSEC does not know the domain (404).
	ErrNotFound = errors.New("not found")
	// ErrRateLimited means deSEC kept answering 429, or asked for a longer
	// wait than Provider.MaxRetryWait allows.
	ErrRateLimited = errors.New("rate limited")
)

// APIError is an error answer from deSEC.
type APIError struct {
	// Method and Path are the request's (the query is left out).
	Method, Path string
	// Status is the HTTP status code.
	Status int
	// Detail is what deSEC said: its "detail" field, or the answer's body,
	// shortened.
	Detail string
	// RetryAfter is the wait deSEC asked for with a 429, if any.
	RetryAfter time.Duration
}

// Error says what was asked and what deSEC answered.
func (e *APIError) Error() string {
	s := fmt.Sprintf("%s %s: deSEC answered %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap maps the status to this package's sentinel errors.
func (e *APIError) Unwrap() error {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrUnauthorized
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusTooManyRequests:
		return ErrRateLimited
	}
	return nil
}

// baseURL returns the checked API root: https, or http to a loopback address
// (for tests), without query or fragment.
func (p *Provider) baseURL() (*url.URL, error) {
	return httpapi.BaseURL(p.BaseURL, DefaultBaseURL)
}

// checkToken checks that the token is present and fits in a header.
func (p *Provider) checkToken() error {
	return httpapi.HeaderToken("Token", p.Token)
}

// call sends one request to path (below the API root) and decodes a 2xx
// answer's JSON into out (if out is not nil). It returns the answer's
// headers. Every method this package uses is idempotent (GET, and PUT or
// PATCH with whole RRsets), so failed exchanges are retried.
func (p *Provider) call(ctx context.Context, method, path string, query url.Values, body, out any) (http.Header, error) {
	if err := p.checkToken(); err != nil {
		return nil, err
	}
	base, err := p.baseURL()
	if err != nil {
		return nil, err
	}
	u := *base
	u.Path += path
	u.RawQuery = query.Encode()
	var payload []byte
	if body != nil {
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("encoding the request: %w", err)
		}
	}
	client := p.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: defaultTimeout}
	}
	maxWait := p.MaxRetryWait
	if maxWait == 0 {
		maxWait = defaultMaxRetryWait
	}
	a, err := httpapi.Send(ctx, client, maxWait, true, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Token "+p.Token)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u.Path, err)
	}
	if a.Status < 200 || a.Status > 299 {
		e := &APIError{Method: method, Path: u.Path, Status: a.Status, Detail: detail(a.Body)}
		if a.Status == http.StatusTooManyRequests {
			e.RetryAfter = max(httpapi.RetryAfter(a.Header, time.Now()), 0)
		}
		return nil, e
	}
	if out != nil {
		if err := json.Unmarshal(a.Body, out); err != nil {
			return nil, fmt.Errorf("%s %s: decoding deSEC's answer: %w", method, u.Path, err)
		}
	}
	return a.Header, nil
}

// detail extracts the message from an error body: deSEC answers
// {"detail": "..."} for most errors and a list or map of field errors for
// refused RRsets; the latter are kept as compact JSON.
func detail(body []byte) string {
	var d struct {
		Detail string `json:"detail"`
	}
	if json.Unmarshal(body, &d) == nil && d.Detail != "" {
		return shorten(d.Detail)
	}
	var buf bytes.Buffer
	if json.Compact(&buf, body) == nil {
		return shorten(buf.String())
	}
	return shorten(strings.TrimSpace(string(body)))
}

func shorten(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > maxDetail {
		return strings.ToValidUTF8(s[:maxDetail], "") + "..."
	}
	return s
}
