package catalog

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Source is a catalog the box follows: where to fetch it and which keys must
// sign it. The official source comes from Embedded; the owner adds others,
// each with its own key, and they are shown as third-party (Official false).
type Source struct {
	// ID must equal the id inside the catalog's payload.
	ID    string
	Title string
	// URL is where Refresh fetches the envelope: https, or http to a
	// loopback host (development). Empty means the source is never
	// refreshed (a catalog loaded from disk only).
	URL   string
	Trust Trust
	// Official marks Hearth's own catalog. Only Embedded sets it; a source
	// the owner adds must leave it false.
	Official bool
}

// normalize checks s and returns it with its trust set normalised.
func (s Source) normalize() (Source, error) {
	if !slugPattern.MatchString(s.ID) {
		return Source{}, fmt.Errorf("%w: source.id: %q must be 2-32 characters of a-z, 0-9 and '-', starting with a letter", ErrInvalidSource, s.ID)
	}
	if t := strings.TrimSpace(s.Title); t == "" || utf8.RuneCountInString(t) > maxTitle {
		return Source{}, fmt.Errorf("%w: source.title: must be 1-%d characters", ErrInvalidSource, maxTitle)
	}
	if s.URL != "" {
		if err := checkSourceURL(s.URL); err != nil {
			return Source{}, fmt.Errorf("%w: source.url: %w", ErrInvalidSource, err)
		}
	}
	t, err := s.Trust.normalize()
	if err != nil {
		return Source{}, fmt.Errorf("%w: source.%w", ErrInvalidSource, err)
	}
	s.Trust = t
	return s, nil
}

// checkSourceURL accepts https URLs, and http URLs whose host is loopback.
func checkSourceURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.User != nil {
		return fmt.Errorf("%q: credentials in the URL are not allowed", raw)
	}
	if u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q: not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q: http is only allowed to a loopback host; use https", raw)
	}
	return fmt.Errorf("%q: scheme %q, want https", raw, u.Scheme)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
