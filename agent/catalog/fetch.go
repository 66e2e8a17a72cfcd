package catalog

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// fetch downloads an envelope, within the Manager's timeout and size limit.
func (m *Manager) fetch(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "hearth-catalog/1")
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: HTTP %s", ErrFetch, url, resp.Status)
	}
	if resp.ContentLength > m.maxSize {
		return nil, fmt.Errorf("%w: GET %s: %d bytes, more than the limit of %d", ErrFetch, url, resp.ContentLength, m.maxSize)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, m.maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %w", ErrFetch, url, err)
	}
	if int64(len(body)) > m.maxSize {
		return nil, fmt.Errorf("%w: GET %s: more than the limit of %d bytes", ErrFetch, url, m.maxSize)
	}
	return body, nil
}
