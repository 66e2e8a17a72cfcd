package catalog

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// catalogServer serves whatever envelope (or status) the test sets, over
// TLS.
type catalogServer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	body   []byte
	status int
	hang   bool // block until the client gives up
}

func newCatalogServer(t *testing.T) *catalogServer {
	t.Helper()
	s := &catalogServer{status: http.StatusOK}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		body, status, hang := s.body, s.status, s.hang
		s.mu.Unlock()
		if hang {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *catalogServer) serve(body []byte, status int, hang bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.status, s.hang = body, status, hang
}

// fixedClock is a clock stopped at t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func newTestManager(t *testing.T, srv *catalogServer, now func() time.Time) *Manager {
	t.Helper()
	return NewManager(Config{
		HTTPClient:   srv.srv.Client(),
		Now:          now,
		Logger:       slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		FetchTimeout: 300 * time.Millisecond,
	})
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

// TestManagerKeepsLastGood refreshes a catalog, then is served one bad
// catalog after another: each is refused with its own reason and the first
// catalog keeps being served; a newer good one then replaces it.
func TestManagerKeepsLastGood(t *testing.T) {
	key, stranger := newTestKey(t), newTestKey(t)
	srv := newCatalogServer(t)
	now := fixedClock(t0().Add(time.Hour))
	m := newTestManager(t, srv, now)
	src := Source{ID: "test", Title: "Test", URL: srv.srv.URL + "/catalog.json", Trust: trustOf(key)}

	first := signTest(t, buildTest(t, testMeta("test", t0())), key)
	srv.serve(first, http.StatusOK, false)
	env, err := m.Refresh(context.Background(), src, nil)
	if err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	if !bytes.Equal(env, first) {
		t.Fatal("Refresh returned other bytes than those served")
	}
	good, _ := m.Catalog("test")
	held := good.Held()

	older := signTest(t, buildTest(t, testMeta("test", t0().Add(-time.Hour))), key)
	shortLived := buildTest(t, BuildMeta{ID: "test", Title: "Test", Timestamp: t0().Add(time.Minute), Expires: t0().Add(2 * time.Minute)})
	invalid := editPayload(t, buildTest(t, testMeta("test", t0().Add(time.Minute))), func(p map[string]any) {
		obj(t, p, "apps", 0, "versions", 0, "manifest")["category"] = "games"
	})
	otherID := signTest(t, buildTest(t, testMeta("other", t0().Add(time.Minute))), key)

	steps := []struct {
		name   string
		body   []byte
		status int
		hang   bool
		held   *Held
		want   error
	}{
		{name: "flipped byte in the payload", body: flipPayloadByte(t, first, 100), want: ErrBadSignature},
		{name: "flipped byte in the signature", body: editEnvelope(t, first, func(e *envelopeJSON) {
			flipSigByte(t, e)
		}), want: ErrBadSignature},
		{name: "wrong key", body: signTest(t, buildTest(t, testMeta("test", t0().Add(time.Minute))), stranger), want: ErrBadSignature},
		{name: "older timestamp, held by the store", body: older, held: &held, want: ErrRollback},
		{name: "older timestamp, held in memory only", body: older, want: ErrRollback},
		{name: "expired", body: signTest(t, shortLived, key), want: ErrExpired},
		{name: "signed but invalid", body: signTest(t, invalid, key), want: ErrMalformed},
		{name: "another catalog's id", body: otherID, want: ErrMalformed},
		{name: "HTTP 404", body: []byte("not found"), status: http.StatusNotFound, want: ErrFetch},
		{name: "timeout", hang: true, want: ErrFetch},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			status := s.status
			if status == 0 {
				status = http.StatusOK
			}
			srv.serve(s.body, status, s.hang)
			env, err := m.Refresh(context.Background(), src, s.held)
			if s.want == ErrFetch {
				if !errors.Is(err, ErrFetch) {
					t.Fatalf("got error %v, want ErrFetch", err)
				}
			} else {
				checkRefusal(t, err, s.want)
			}
			if env != nil {
				t.Error("a refused refresh returned an envelope")
			}
			cat, ok := m.Catalog("test")
			if !ok || cat.Digest != good.Digest {
				t.Fatalf("after a refused refresh the catalog is %v, want the last good one", cat)
			}
			if id, _, ok := m.Find("hello"); !ok || id != "test" {
				t.Errorf("Find(hello) = %q, %v; want test, true", id, ok)
			}
			st := m.Status()
			if len(st) != 1 || !errors.Is(st[0].LastError, s.want) || !st[0].Loaded {
				t.Errorf("Status = %+v, want the refusal recorded and the catalog loaded", st)
			}
		})
	}

	t.Run("the same catalog again", func(t *testing.T) {
		srv.serve(first, http.StatusOK, false)
		if _, err := m.Refresh(context.Background(), src, &held); err != nil {
			t.Fatalf("got %v, want the catalog held accepted again", err)
		}
	})
	t.Run("a newer catalog", func(t *testing.T) {
		newer := signTest(t, buildTest(t, testMeta("test", t0().Add(time.Minute))), key)
		srv.serve(newer, http.StatusOK, false)
		if _, err := m.Refresh(context.Background(), src, &held); err != nil {
			t.Fatalf("got %v, want the newer catalog accepted", err)
		}
		cat, _ := m.Catalog("test")
		if got, want := cat.Timestamp, t0().Add(time.Minute); !got.Equal(want) {
			t.Errorf("got catalog of %s, want %s", got, want)
		}
		if st := m.Status(); st[0].LastError != nil {
			t.Errorf("LastError = %v after a good refresh, want nil", st[0].LastError)
		}
	})
}

func TestManagerSizeLimit(t *testing.T) {
	key := newTestKey(t)
	srv := newCatalogServer(t)
	env := signTest(t, buildTest(t, testMeta("test", t0())), key)
	srv.serve(env, http.StatusOK, false)
	m := NewManager(Config{HTTPClient: srv.srv.Client(), Now: fixedClock(t0()), MaxSize: int64(len(env) - 1)})
	src := Source{ID: "test", Title: "Test", URL: srv.srv.URL, Trust: trustOf(key)}
	if _, err := m.Refresh(context.Background(), src, nil); !errors.Is(err, ErrFetch) {
		t.Fatalf("got %v, want ErrFetch for an envelope over the limit", err)
	}
	if _, ok := m.Catalog("test"); ok {
		t.Error("an oversized catalog was loaded")
	}
}

func TestManagerLoadAndFind(t *testing.T) {
	official, thirdKey := newTestKey(t), newTestKey(t)
	m := NewManager(Config{Now: fixedClock(t0())})
	offSrc := Source{ID: "test", Title: "Official", Trust: trustOf(official), Official: true}
	thirdSrc := Source{ID: "third", Title: "Third party", URL: "https://catalog.example.org/c.json", Trust: trustOf(thirdKey)}

	// The third-party catalog lists the same apps: it must not shadow the
	// official ones.
	if err := m.Load(thirdSrc, signTest(t, buildTest(t, testMeta("third", t0())), thirdKey), nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Load(offSrc, signTest(t, buildTest(t, testMeta("test", t0())), official), nil); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range m.Catalogs() {
		ids = append(ids, c.ID)
	}
	if diff := cmp.Diff([]string{"test", "third"}, ids); diff != "" {
		t.Errorf("Catalogs order (-want +got):\n%s", diff)
	}
	if id, app, ok := m.Find("notes"); !ok || id != "test" || app.Latest().Version != "2.0.0" {
		t.Errorf("Find(notes) = %q, %s, %v; want test, 2.0.0, true", id, app.Latest().Version, ok)
	}
	if _, _, ok := m.Find("nope"); ok {
		t.Error("Find(nope) found an app")
	}
	if c, _ := m.Catalog("third"); c.Official {
		t.Error("a third-party catalog is marked official")
	}

	tests := []struct {
		name string
		src  Source
		env  []byte
		held *Held
		want error
	}{
		{"a key of another catalog", thirdSrc, signTest(t, buildTest(t, testMeta("third", t0().Add(time.Hour))), official), nil, ErrBadSignature},
		{"older than the store holds", offSrc, signTest(t, buildTest(t, testMeta("test", t0().Add(-time.Hour))), official),
			&Held{Timestamp: t0()}, ErrRollback},
		{"payload of another source", thirdSrc, signTest(t, buildTest(t, testMeta("test", t0().Add(time.Hour))), thirdKey), nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefusal(t, m.Load(tt.src, tt.env, tt.held), tt.want)
		})
	}

	if !m.Remove("third") || m.Remove("third") {
		t.Error("Remove(third) did not report true, then false")
	}
	if _, ok := m.Catalog("third"); ok {
		t.Error("a removed catalog is still served")
	}
}

func TestManagerInvalidSource(t *testing.T) {
	key := newTestKey(t)
	env := signTest(t, buildTest(t, testMeta("test", t0())), key)
	tests := []struct {
		name string
		src  Source
		want error
	}{
		{"http to the internet", Source{ID: "test", Title: "T", URL: "http://catalog.example.org/c.json", Trust: trustOf(key)}, ErrInvalidSource},
		{"credentials in the URL", Source{ID: "test", Title: "T", URL: "https://u:p@catalog.example.org/c.json", Trust: trustOf(key)}, ErrInvalidSource},
		{"ftp", Source{ID: "test", Title: "T", URL: "ftp://catalog.example.org/c.json", Trust: trustOf(key)}, ErrInvalidSource},
		{"bad id", Source{ID: "Test", Title: "T", Trust: trustOf(key)}, ErrInvalidSource},
		{"no title", Source{ID: "test", Trust: trustOf(key)}, ErrInvalidSource},
		{"no keys", Source{ID: "test", Title: "T"}, ErrInvalidSource},
		{"http to loopback", Source{ID: "test", Title: "T", URL: "http://127.0.0.1:8080/c.json", Trust: trustOf(key)}, nil},
		{"https", Source{ID: "test", Title: "T", URL: "https://catalog.example.org/c.json", Trust: trustOf(key)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewManager(Config{Now: fixedClock(t0())})
			if err := m.Load(tt.src, env, nil); !errors.Is(err, tt.want) && (tt.want != nil || err != nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("refresh without a URL", func(t *testing.T) {
		m := NewManager(Config{})
		_, err := m.Refresh(context.Background(), Source{ID: "test", Title: "T", Trust: trustOf(key)}, nil)
		if !errors.Is(err, ErrInvalidSource) {
			t.Errorf("got %v, want ErrInvalidSource", err)
		}
	})
}

// TestManagerConcurrent runs loads, refreshes and reads together, for the
// race detector.
func TestManagerConcurrent(t *testing.T) {
	key := newTestKey(t)
	srv := newCatalogServer(t)
	now := fixedClock(t0().Add(time.Hour))
	m := newTestManager(t, srv, now)
	src := Source{ID: "test", Title: "Test", URL: srv.srv.URL, Trust: trustOf(key)}
	var envs [][]byte
	for i := range 4 {
		envs = append(envs, signTest(t, buildTest(t, testMeta("test", t0().Add(time.Duration(i)*time.Minute))), key))
	}
	srv.serve(envs[3], http.StatusOK, false)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { _ = m.Load(src, envs[i], nil) })
		wg.Go(func() { _, _ = m.Refresh(context.Background(), src, nil) })
		wg.Go(func() { m.Find("hello"); m.Status(); m.Catalogs() })
	}
	wg.Wait()
	cat, ok := m.Catalog("test")
	if !ok || !cat.Timestamp.Equal(t0().Add(3*time.Minute)) {
		t.Errorf("got %v, want the newest catalog to win", cat)
	}
}

func TestManagerStatus(t *testing.T) {
	key := newTestKey(t)
	srv := newCatalogServer(t)
	m := newTestManager(t, srv, fixedClock(t0().Add(time.Hour)))
	src := Source{ID: "test", Title: "Test", URL: srv.srv.URL, Trust: trustOf(key)}
	stored := signTest(t, buildTest(t, testMeta("test", t0().Add(time.Minute))), key)
	embedded := signTest(t, buildTest(t, testMeta("test", t0())), key)

	t.Run("a new source whose first refresh fails is listed", func(t *testing.T) {
		srv.serve(nil, http.StatusServiceUnavailable, false)
		if _, err := m.Refresh(context.Background(), src, nil); !errors.Is(err, ErrFetch) {
			t.Fatalf("got %v, want ErrFetch", err)
		}
		st := m.Status()
		if len(st) != 1 || st[0].ID != "test" || st[0].Loaded || !errors.Is(st[0].LastError, ErrFetch) {
			t.Errorf("got %+v, want test, not loaded, ErrFetch", st)
		}
	})
	t.Run("start: the stored catalog, then the older embedded one", func(t *testing.T) {
		if err := m.Load(src, stored, nil); err != nil {
			t.Fatal(err)
		}
		if err := m.Load(src, embedded, nil); !errors.Is(err, ErrRollback) {
			t.Fatalf("got %v, want ErrRollback", err)
		}
		st := m.Status()
		if len(st) != 1 || !st[0].Loaded || st[0].LastError != nil || !st[0].Timestamp.Equal(t0().Add(time.Minute)) {
			t.Errorf("got %+v, want the stored catalog loaded and no error", st)
		}
		if got, want := st[0].SignedBy, []string{KeyID(key.pub)}; !cmp.Equal(got, want) {
			t.Errorf("SignedBy: got %v, want %v", got, want)
		}
	})
}
