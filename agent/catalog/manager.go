package catalog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"
)

// DefaultFetchTimeout bounds one Refresh download when Config.FetchTimeout
// is 0.
const DefaultFetchTimeout = 60 * time.Second

// Config configures a Manager.
type Config struct {
	// HTTPClient fetches catalogs; nil means a client of its own that uses
	// the environment's proxy settings.
	HTTPClient *http.Client
	// Now is the clock for expiry; nil means time.Now.
	Now func() time.Time
	// Logger; nil discards.
	Logger *slog.Logger
	// FetchTimeout bounds one download; 0 means DefaultFetchTimeout.
	FetchTimeout time.Duration
	// MaxSize is the largest envelope downloaded; 0 (or more than
	// MaxEnvelopeSize) means MaxEnvelopeSize (8 MiB).
	MaxSize int64
}

// Manager holds the last good catalog of each source in memory. It is safe
// for concurrent use. It persists nothing: Load takes what the caller stored
// (or the embedded copy), Refresh returns the envelope for the caller to
// store with its Held.
type Manager struct {
	client  *http.Client
	now     func() time.Time
	log     *slog.Logger
	timeout time.Duration
	maxSize int64

	// mu guards entries. It is held from the verification of an envelope
	// until its catalog is stored, so two loads of one source cannot both
	// pass the rollback check against the same older catalog; never while
	// downloading.
	mu      sync.Mutex
	entries map[string]*entry
}

// entry is one source with its last good catalog and its last attempt.
type entry struct {
	src         Source
	cat         *Catalog // nil until a catalog was accepted
	lastAttempt time.Time
	lastErr     error
}

// Status describes one source the Manager knows.
type Status struct {
	ID       string
	Title    string
	URL      string
	Official bool
	// Loaded reports whether a good catalog is held; the fields below
	// describe it.
	Loaded    bool
	Timestamp time.Time
	Expires   time.Time
	Apps      int
	SignedBy  []string
	// LastAttempt is the time of the last Load or Refresh, and LastError why
	// it was refused (nil if it succeeded).
	LastAttempt time.Time
	LastError   error
}

// NewManager makes a Manager with no catalogs.
func NewManager(cfg Config) *Manager {
	m := &Manager{
		client:  cfg.HTTPClient,
		now:     cfg.Now,
		log:     cfg.Logger,
		timeout: cfg.FetchTimeout,
		maxSize: cfg.MaxSize,
		entries: map[string]*entry{},
	}
	if m.client == nil {
		m.client = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.log = m.log.With("component", "catalog")
	if m.timeout <= 0 {
		m.timeout = DefaultFetchTimeout
	}
	if m.maxSize <= 0 || m.maxSize > MaxEnvelopeSize {
		m.maxSize = MaxEnvelopeSize
	}
	return m
}

// Load verifies an envelope the caller holds (from its state store, or the
// embedded copy) and makes it the source's catalog. held is what the state
// store recorded; the Manager also refuses anything older than the catalog it
// already holds for the source. On error the catalog held before, if any, is
// kept.
//
// At start, Load what the state store holds, then the embedded envelope:
// the newer wins. Refusing the older one (ErrRollback while a newer catalog
// is held) is expected, so it is not recorded as the source's LastError.
func (m *Manager) Load(src Source, envelope []byte, held *Held) error {
	_, err := m.accept(src, envelope, held, true)
	return err
}

// Refresh fetches the source's envelope from its URL, verifies it against
// held and the catalog in memory, and on success makes it the source's
// catalog and returns the envelope, for the caller to persist with the new
// Held (Catalog(src.ID).Held()). On any failure the last good catalog stays
// and the error says why (ErrFetch, ErrBadSignature, ErrRollback,
// ErrExpired, ErrMalformed, ErrInvalidSource). Fetching the very catalog
// already held succeeds.
func (m *Manager) Refresh(ctx context.Context, src Source, held *Held) ([]byte, error) {
	n, err := src.normalize()
	if err == nil && n.URL == "" {
		err = fmt.Errorf("%w: source.url: missing: source %q cannot be refreshed", ErrInvalidSource, src.ID)
	}
	if err != nil {
		m.record(src, err, false)
		return nil, err
	}
	envelope, err := m.fetch(ctx, n.URL)
	if err != nil {
		err = fmt.Errorf("catalog %q: %w", n.ID, err)
		m.record(n, err, true)
		return nil, err
	}
	if _, err := m.accept(n, envelope, held, false); err != nil {
		return nil, err
	}
	return envelope, nil
}

// accept verifies envelope for src and stores its catalog, or records why
// it was refused.
func (m *Manager) accept(src Source, envelope []byte, held *Held, load bool) (*Catalog, error) {
	n, err := src.normalize()
	if err != nil {
		m.record(src, err, false)
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[n.ID]
	if e == nil {
		e = &entry{}
		m.entries[n.ID] = e
	}
	e.src = n
	now := m.now()
	if e.cat != nil && (held == nil || e.cat.Timestamp.After(held.Timestamp)) {
		h := e.cat.Held()
		held = &h
	}
	cat, err := Verify(envelope, n.Trust, held, now)
	if err == nil && cat.ID != n.ID {
		err = fmt.Errorf("catalog for source %q: %w", n.ID,
			&FieldError{Path: "id", Reason: fmt.Sprintf("%q is not the source's id %q", cat.ID, n.ID)})
	}
	if err != nil {
		if !(load && e.cat != nil && errors.Is(err, ErrRollback)) {
			e.lastAttempt, e.lastErr = now, err
		}
		return nil, err
	}
	cat.Official = n.Official
	if prev := e.cat; prev != nil && prev.Digest == cat.Digest && prev.Official == cat.Official {
		// The catalog held, again: keep the value callers already have.
		e.lastAttempt, e.lastErr = now, nil
		m.log.Debug("catalog unchanged", "catalog", cat.ID, "timestamp", cat.Timestamp)
		return prev, nil
	}
	e.cat, e.lastAttempt, e.lastErr = cat, now, nil
	m.log.Info("catalog accepted", "catalog", cat.ID, "timestamp", cat.Timestamp, "expires", cat.Expires,
		"apps", len(cat.Apps), "signedBy", cat.SignedBy)
	return cat, nil
}

// record notes a failure that happened before verification. A source not
// known yet is remembered (with no catalog) only if create is set: src is
// then valid, and Status shows it with its error.
func (m *Manager) record(src Source, err error, create bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[src.ID]
	if e == nil {
		if !create {
			return
		}
		e = &entry{src: src}
		m.entries[src.ID] = e
	}
	e.lastAttempt, e.lastErr = m.now(), err
}

// Remove forgets a source and its catalog. It reports whether it was known.
func (m *Manager) Remove(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.entries[id]
	delete(m.entries, id)
	return ok
}

// Catalogs returns the catalogs held, the official ones first, then by ID.
func (m *Manager) Catalogs() []*Catalog {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Catalog
	for _, e := range m.entries {
		if e.cat != nil {
			out = append(out, e.cat)
		}
	}
	slices.SortFunc(out, func(a, b *Catalog) int {
		if a.Official != b.Official {
			if a.Official {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// Catalog returns the catalog held for the source id.
func (m *Manager) Catalog(id string) (*Catalog, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[id]; e != nil && e.cat != nil {
		return e.cat, true
	}
	return nil, false
}

// Find returns the app with this id and the catalog it comes from, looking in
// the order of Catalogs (official first), so a third-party catalog cannot
// shadow an official app.
func (m *Manager) Find(appID string) (string, App, bool) {
	for _, c := range m.Catalogs() {
		if a, ok := c.App(appID); ok {
			return c.ID, a, true
		}
	}
	return "", App{}, false
}

// Status describes every known source, official first, then by ID.
func (m *Manager) Status() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Status, 0, len(m.entries))
	for _, e := range m.entries {
		s := Status{ID: e.src.ID, Title: e.src.Title, URL: e.src.URL, Official: e.src.Official,
			LastAttempt: e.lastAttempt, LastError: e.lastErr}
		if c := e.cat; c != nil {
			s.Loaded, s.Timestamp, s.Expires, s.Apps = true, c.Timestamp, c.Expires, len(c.Apps)
			s.SignedBy = slices.Clone(c.SignedBy)
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Status) int {
		if a.Official != b.Official {
			if a.Official {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}
