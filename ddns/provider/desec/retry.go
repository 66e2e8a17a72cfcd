package desec

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

// answer is one HTTP answer, read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// send sends the request that build makes (afresh for every attempt) and
// retries when that is safe and quick:
//   - a 429 is retried after its Retry-After, unless that is longer than
//     maxWait; then, or when the attempts run out, the 429 is returned;
//   - a 5xx answer or a broken connection is retried, with backoff, only when
//     the request is idempotent.
//
// Transport errors drop the request URL, so that a secret in the query never
// reaches an error message.
func send(ctx context.Context, c *http.Client, maxWait time.Duration, idempotent bool, build func(context.Context) (*http.Request, error)) (answer, error) {
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		last := attempt == maxAttempts
		req, err := build(ctx)
		if err != nil {
			return answer{}, err
		}
		resp, err := c.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return answer{}, ctx.Err()
			}
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			if !idempotent || last {
				return answer{}, err
			}
			if err := sleep(ctx, backoff); err != nil {
				return answer{}, err
			}
			backoff *= 2
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			return answer{}, fmt.Errorf("reading the answer: %w", err)
		}
		a := answer{status: resp.StatusCode, header: resp.Header, body: body}
		switch {
		case a.status == http.StatusTooManyRequests:
			wait := retryAfter(a.header, time.Now())
			if wait < 0 {
				wait = rateLimitWait
			}
			if last || wait > maxWait {
				return a, nil
			}
			if err := sleep(ctx, wait); err != nil {
				return answer{}, err
			}
		case a.status >= 500 && idempotent && !last:
			if err := sleep(ctx, backoff); err != nil {
				return answer{}, err
			}
			backoff *= 2
		default:
			return a, nil
		}
	}
}

// retryAfter reads a Retry-After header (seconds or an HTTP date); it
// returns -1 when there is none or it cannot be read.
func retryAfter(h http.Header, now time.Time) time.Duration {
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

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
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
