package state

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
)

// t0 is the start of the tests' clock.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openTest opens a new store in a temporary folder and closes it in
// t.Cleanup.
func openTest(t *testing.T, opts Options) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "state.db"), opts)
}

func openAt(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	if opts.Now == nil {
		opts.Now = newClock().Now
	}
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// writes is how many pages bbolt has written since the store opened.
func writes(s *Store) int64 {
	st := s.db.Stats()
	return st.TxStats.GetWrite()
}

// equateEmpty treats nil and empty slices and maps alike: JSON drops empty
// ones.
var equateEmpty = cmpopts.EquateEmpty()

func testApp(id string) App {
	return App{
		ID:        id,
		CatalogID: "official",
		Version:   "1.2.0",
		Manifest:  json.RawMessage(`{"id":"` + id + `","version":"1.2.0"}`),
		Settings:  map[string]string{"title": "My " + id},
		Secrets:   map[string]string{"adminPassword": "generated-at-install"},
		Wanted:    WantRunning,
	}
}

func testOp(id, app, kind string) Operation {
	return Operation{
		ID:     id,
		App:    app,
		Kind:   kind,
		Params: json.RawMessage(`{"version":"1.2.0"}`),
		Steps:  []Step{{Name: "pull", State: StepPending}, {Name: "start", State: StepPending}},
		Actor:  "cli:root",
	}
}

func testCatalog(id string) CatalogRecord {
	return CatalogRecord{
		ID:        id,
		Title:     "Catalog " + id,
		URL:       "https://catalog.example.org/" + id + ".json",
		Official:  id == "official",
		Keys:      []KeyRecord{{ID: "2026-01", Public: bytes.Repeat([]byte{7}, 32)}},
		Envelope:  []byte(`{"payload":"e30=","signatures":[]}`),
		Timestamp: t0.Add(-time.Hour),
		Digest:    "sha256:0123456789abcdef",
	}
}
