// Package httpapi sends the requests of Hearth's DNS providers to their
// HTTP APIs, retrying when that is safe and quick. Only the providers under
// ddns/provider import it.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

const (
	// maxAttempts bounds how often one request is sent.
	maxAttempts = 4
	// firstBackoff is the wait before the second attempt after a server
	// error or a broken connection; it doubles for each further attempt.
	firstBackoff = 250 * time.Millisecond
	// rateLimitWait is the wait after a 429 that names no Retry-After.
	rateLimitWait = time.Second
	// maxBody bounds how much of an answer is read.
	maxBody = 8 << 20
)

// Answer is one HTTP answer, read in full.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Send sends the request that build makes (afresh for every attempt) and
// retries when that is safe and quick:
//   - a 429 is retried after its Retry-After, unless that is longer than
//     maxWait; then, or when the attempts run out, the 429 is returned;
//   - a 5xx answer or a broken connection is retried, with backoff, only when
//     the request is idempotent.
//
// Transport errors drop the request URL, so that a secret in the query never
// reaches an error message.
func Send(ctx context.Context, c *http.Client, maxWait time.Duration, idempotent bool, build func(context.Context) (*http.Request, error)) (Answer, error) {
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		last := attempt == maxAttempts
		req, err := build(ctx)
		if err != nil {
			return Answer{}, err
		}
		resp, err := c.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return Answer{}, ctx.Err()
			}
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			if !idempotent || last {
				return Answer{}, err
			}
			if err := Sleep(ctx, backoff); err != nil {
				return Answer{}, err
			}
			backoff *= 2
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			return Answer{}, fmt.Errorf("reading the answer: %w", err)
		}
		a := Answer{Status: resp.StatusCode, Header: resp.Header, Body: body}
		switch {
		case a.Status == http.StatusTooManyRequests:
			wait := RetryAfter(a.Header, time.Now())
			if wait < 0 {
				wait = rateLimitWait
			}
			if last || wait > maxWait {
				return a, nil
			}
			if err := Sleep(ctx, wait); err != nil {
				return Answer{}, err
			}
		case a.Status >= 500 && idempotent && !last:
			if err := Sleep(ctx, backoff); err != nil {
				return Answer{}, err
			}
			backoff *= 2
		default:
			return a, nil
		}
	}
}

// RetryAfter reads a Retry-After header (seconds or an HTTP date); it
// returns -1 when there is none or it cannot be read.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return -1
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return -1
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

// Sleep waits for d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
