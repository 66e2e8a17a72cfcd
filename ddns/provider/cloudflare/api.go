package cloudflare

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

// DefaultBaseURL is Cloudflare's API root, used when Provider.BaseURL is
// empty.
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

const (
	// defaultTimeout bounds one HTTP exchange when Provider.HTTPClient is nil.
	defaultTimeout = 30 * time.Second
	// defaultMaxRetryWait is how long a rate-limited request may wait for
	// its retry when Provider.MaxRetryWait is zero.
	defaultMaxRetryWait = 10 * time.Second
	// maxDetail bounds how much of an unexpected answer goes into an error.
	maxDetail = 500
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrInvalid means an argument or a Provider field is not acceptable;
	// the error names it.
	ErrInvalid = dnsname.ErrInvalid // shared by the providers
	// ErrUnsupported means a record type this provider does not handle.
	ErrUnsupported = errors.New("unsupported record type")
	// ErrUnauthorized means Cloudflare refused the token (401 or 403).
	ErrUnauthorized = errors.New("token refused")
	// ErrNotFound means the zone or a record does not exist, or the token
	// may not see it.
	ErrNotFound = errors.New("not found")
	// ErrRateLimited means Cloudflare kept answering 429, or asked for a
	// longer wait than Provider.MaxRetryWait allows.
	ErrRateLimited = errors.New("rate limited")
)

// Message is one entry of the errors (or messages) list of Cloudflare's
// answer envelope.
type Message struct {
	Code       int       `json:"code"`
	Message    string    `json:"message"`
	ErrorChain []Message `json:"error_chain,omitempty"`
}

// String renders the message as "code text", with its error chain.
func (m Message) String() string {
	s := fmt.Sprintf("%d %s", m.Code, m.Message)
	for _, c := range m.ErrorChain {
		s += " (" + c.String() + ")"
	}
	return s
}

// APIError is an error answer from Cloudflare.
type APIError struct {
	// Method and Path are the request's (the query is left out).
	Method, Path string
	// Status is the HTTP status code.
	Status int
	// Errors is the envelope's errors list.
	Errors []Message
	// Body is the start of the answer when it was not an envelope.
	Body string
	// RetryAfter is the wait Cloudflare asked for with a 429, if any.
	RetryAfter time.Duration
}

// Error says what was asked and what Cloudflare answered.
func (e *APIError) Error() string {
	s := fmt.Sprintf("%s %s: Cloudflare answered %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	parts := make([]string, 0, len(e.Errors))
	for _, m := range e.Errors {
		parts = append(parts, m.String())
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, "; ")
	} else if e.Body != "" {
		s += ": " + e.Body
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

// envelope is the frame of every Cloudflare v4 answer.
type envelope struct {
	Success    bool            `json:"success"`
	Errors     []Message       `json:"errors"`
	Messages   []Message       `json:"messages"`
	Result     json.RawMessage `json:"result"`
	ResultInfo *resultInfo     `json:"result_info,omitempty"`
}

// resultInfo describes one page of a list.
type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

// baseURL returns the checked API root: https, or http to a loopback address
// (for tests), without query or fragment.
func (p *Provider) baseURL() (*url.URL, error) {
	return httpapi.BaseURL(p.BaseURL, DefaultBaseURL)
}

// checkToken checks that the token is present and fits in a header.
func (p *Provider) checkToken() error {
	return httpapi.HeaderToken("APIToken", p.APIToken)
}

// call sends one request to path (below the API root) and decodes the
// envelope's result into out (if out is not nil). It returns the page
// information of list answers. POST is not idempotent, so a POST is retried
// only after a 429 (which Cloudflare did not act on).
func (p *Provider) call(ctx context.Context, method, path string, query url.Values, body, out any) (*resultInfo, error) {
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
	a, err := httpapi.Send(ctx, client, maxWait, method != http.MethodPost, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+p.APIToken)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u.Path, err)
	}
	var env envelope
	decodeErr := json.Unmarshal(a.Body, &env)
	if a.Status < 200 || a.Status > 299 || decodeErr != nil || !env.Success {
		e := &APIError{Method: method, Path: u.Path, Status: a.Status, Errors: env.Errors}
		if len(env.Errors) == 0 {
			e.Body = shorten(strings.TrimSpace(string(a.Body)))
		}
		if a.Status == http.StatusTooManyRequests {
			e.RetryAfter = max(httpapi.RetryAfter(a.Header, time.Now()), 0)
		}
		return nil, e
	}
	if out != nil {
		if err := json.Unmarshal(env.Result, out); err != nil {
			return nil, fmt.Errorf("%s %s: decoding Cloudflare's result: %w", method, u.Path, err)
		}
	}
	return env.ResultInfo, nil
}

func shorten(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > maxDetail {
		return strings.ToValidUTF8(s[:maxDetail], "") + "..."
	}
	return s
}
