package duckdns

import (
	"context"
	"errors"
	"fmt"
	"github.com/hearthbox/hearth/ddns/provider/internal/dnsname"
	"github.com/hearthbox/hearth/ddns/provider/internal/httpapi"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is DuckDNS's web root, used when Provider.BaseURL is empty.
const DefaultBaseURL = "https://www.duckdns.org"

const (
	// defaultTimeout bounds one HTTP exchange when Provider.HTTPClient is nil.
	defaultTimeout = 30 * time.Second
	// defaultMaxRetryWait is how long a rate-limited request may wait for
	// its retry when Provider.MaxRetryWait is zero.
	defaultMaxRetryWait = 10 * time.Second
	// maxDetail bounds how much of an unexpected answer goes into an error.
	maxDetail = 200
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrInvalid means an argument or a Provider field is not acceptable;
	// the error names it.
	ErrInvalid = dnsname.ErrInvalid // shared by the providers
	// ErrUnsupported means a record DuckDNS cannot hold: another name or
	// type than those the package documentation lists, or more than one
	// value for one of them.
	ErrUnsupported = errors.New("not supported by DuckDNS")
	// ErrRefused means DuckDNS answered "KO": the token is wrong or the
	// domain is not on its account.
	ErrRefused = errors.New("DuckDNS answered KO (wrong token, or the domain is not on this account)")
	// ErrRateLimited means DuckDNS kept answering 429, or asked for a longer
	// wait than Provider.MaxRetryWait allows.
	ErrRateLimited = errors.New("rate limited")
)

// APIError is an answer from DuckDNS's update URL that is not "OK".
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Body is the start of the answer.
	Body string
	// RetryAfter is the wait DuckDNS asked for with a 429, if any.
	RetryAfter time.Duration
}

// Error says what DuckDNS answered; it never shows the request URL, which
// holds the token.
func (e *APIError) Error() string {
	s := fmt.Sprintf("GET /update: DuckDNS answered %d %s", e.Status, http.StatusText(e.Status))
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.Body != "" {
		s += fmt.Sprintf(": %q", e.Body)
	}
	return s
}

// Unwrap maps the answer to this package's sentinel errors.
func (e *APIError) Unwrap() error {
	switch {
	case e.Status == http.StatusTooManyRequests:
		return ErrRateLimited
	case e.Status == http.StatusOK && e.Body == "KO":
		return ErrRefused
	}
	return nil
}

// baseURL returns the checked web root: https, or http to a loopback address
// (for tests), without query or fragment.
func (p *Provider) baseURL() (*url.URL, error) {
	return httpapi.BaseURL(p.BaseURL, DefaultBaseURL)
}

// checkToken checks the token's form: DuckDNS tokens are UUIDs; letters,
// digits and '-' are accepted.
func (p *Provider) checkToken() error {
	if p.Token == "" {
		return fmt.Errorf("field Token is empty: %w", ErrInvalid)
	}
	if len(p.Token) > 64 {
		return fmt.Errorf("field Token is longer than 64 characters: %w", ErrInvalid)
	}
	for _, c := range p.Token {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("field Token has a character other than letters, digits and '-': %w", ErrInvalid)
		}
	}
	return nil
}

// update calls DuckDNS's update URL for sub with the parameters in q (plus
// domains, token and verbose) and returns the lines of its "OK" answer. The
// update is idempotent (it sets values), so failed exchanges are retried.
func (p *Provider) update(ctx context.Context, sub string, q url.Values) ([]string, error) {
	if err := p.checkToken(); err != nil {
		return nil, err
	}
	base, err := p.baseURL()
	if err != nil {
		return nil, err
	}
	q.Set("domains", sub)
	q.Set("token", p.Token)
	q.Set("verbose", "true")
	u := *base
	u.Path += "/update"
	u.RawQuery = q.Encode()
	client := p.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: defaultTimeout}
	}
	maxWait := p.MaxRetryWait
	if maxWait == 0 {
		maxWait = defaultMaxRetryWait
	}
	a, err := httpapi.Send(ctx, client, maxWait, true, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	})
	if err != nil {
		return nil, fmt.Errorf("GET /update: %w", err)
	}
	body := strings.TrimSpace(string(a.Body))
	lines := strings.Split(body, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	if a.Status != http.StatusOK || lines[0] != "OK" {
		e := &APIError{Status: a.Status, Body: shorten(body)}
		if a.Status == http.StatusTooManyRequests {
			e.RetryAfter = max(httpapi.RetryAfter(a.Header, time.Now()), 0)
		}
		return nil, e
	}
	return lines, nil
}

func shorten(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > maxDetail {
		return strings.ToValidUTF8(s[:maxDetail], "") + "..."
	}
	return s
}
