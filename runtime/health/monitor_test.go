package health

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// change is one call of onChange.
type change struct {
	ID     string
	Status Status
}

// recorder collects onChange calls.
type recorder struct{ ch chan change }

func newRecorder() *recorder { return &recorder{ch: make(chan change, 100)} }

func (r *recorder) onChange(id string, s Status) { r.ch <- change{id, s} }

// expect waits for the given changes, in order.
func (r *recorder) expect(t *testing.T, want ...change) {
	t.Helper()
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	var got []change
	for len(got) < len(want) {
		select {
		case c := <-r.ch:
			got = append(got, c)
		case <-timeout.C:
			t.Fatalf("timed out: got changes %v, want %v", got, want)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

// expectAnyOrder waits for the given changes of different ids, whose
// goroutines report in any order.
func (r *recorder) expectAnyOrder(t *testing.T, want ...change) {
	t.Helper()
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	var got []change
	for len(got) < len(want) {
		select {
		case c := <-r.ch:
			got = append(got, c)
		case <-timeout.C:
			t.Fatalf("timed out: got changes %v, want %v", got, want)
		}
	}
	less := func(a, b change) bool { return a.ID < b.ID || a.ID == b.ID && a.Status < b.Status }
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(less)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

// quiet checks that no change comes within d.
func (r *recorder) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case c := <-r.ch:
		t.Errorf("got change %v, want none for %v", c, d)
	case <-timer.C:
	}
}

func newMonitor(t *testing.T) (*Monitor, *recorder) {
	t.Helper()
	r := newRecorder()
	m := NewMonitor(nil, r.onChange)
	t.Cleanup(m.Close)
	return m, r
}

// statusServer answers every request with the status in code.
func statusServer(t *testing.T, code *atomic.Int32) (netip.Addr, int) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(code.Load()))
	}))
	t.Cleanup(srv.Close)
	return addrPort(t, srv.Listener.Addr())
}

func addrPort(t *testing.T, a net.Addr) (netip.Addr, int) {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	return ap.Addr(), int(ap.Port())
}

const fast = 20 * time.Millisecond

func TestHTTPHealthyUnhealthyHealthy(t *testing.T) {
	var code atomic.Int32
	code.Store(http.StatusOK)
	addr, port := statusServer(t, &code)
	m, r := newMonitor(t)
	m.Watch("web", Check{HTTPPath: "/healthz", HTTPPort: port, Interval: fast, Timeout: time.Second, Retries: 2}, Target{Addr: addr})
	r.expect(t, change{"web", StatusStarting}, change{"web", StatusHealthy})

	code.Store(http.StatusServiceUnavailable)
	r.expect(t, change{"web", StatusUnhealthy})
	res, ok := m.Result("web")
	if !ok {
		t.Fatal("got no result, want one")
	}
	if res.FailingStreak < 2 || res.LastOutput != "HTTP 503 Service Unavailable" || res.LastCheck.IsZero() {
		t.Errorf("got result %+v, want a streak >= 2 and the 503 status", res)
	}

	code.Store(http.StatusNoContent)
	r.expect(t, change{"web", StatusHealthy})
	res, _ = m.Result("web")
	if res.FailingStreak != 0 || res.LastOutput != "HTTP 204 No Content" {
		t.Errorf("got result %+v, want streak 0 and the 204 status", res)
	}
}

func TestHTTPStatuses(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/fail", http.StatusFound)
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "deep=1" {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	addr, port := addrPort(t, srv.Listener.Addr())
	tests := []struct {
		name string
		path string
		want Status
	}{
		{"redirect not followed", "/redirect", StatusHealthy},
		{"query kept", "/ok?deep=1", StatusHealthy},
		{"not found", "/missing", StatusUnhealthy},
		{"server error", "/fail", StatusUnhealthy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, r := newMonitor(t)
			m.Watch("c", Check{HTTPPath: tc.path, HTTPPort: port, Interval: fast, Retries: 1}, Target{Addr: addr})
			r.expect(t, change{"c", StatusStarting}, change{"c", tc.want})
		})
	}
}

// tcpServer accepts and closes connections until stopped.
type tcpServer struct {
	ln   net.Listener
	done chan struct{}
}

func listenTCP(t *testing.T, addr string) *tcpServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &tcpServer{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(s.stop)
	return s
}

func (s *tcpServer) stop() {
	s.ln.Close()
	<-s.done
}

func TestTCP(t *testing.T) {
	s := listenTCP(t, "127.0.0.1:0")
	addr, port := addrPort(t, s.ln.Addr())
	m, r := newMonitor(t)
	m.Watch("db", Check{TCPPort: port, Interval: fast, Timeout: time.Second, Retries: 3}, Target{Addr: addr})
	r.expect(t, change{"db", StatusStarting}, change{"db", StatusHealthy})

	s.stop()
	r.expect(t, change{"db", StatusUnhealthy})
	res, _ := m.Result("db")
	if res.FailingStreak != 3 || !strings.Contains(res.LastOutput, "refused") {
		t.Errorf("got result %+v, want streak 3 and connection refused", res)
	}

	listenTCP(t, s.ln.Addr().String())
	r.expect(t, change{"db", StatusHealthy})
}

func TestStartPeriod(t *testing.T) {
	var code atomic.Int32
	code.Store(http.StatusInternalServerError)
	addr, port := statusServer(t, &code)
	const period = 400 * time.Millisecond

	t.Run("failures do not count", func(t *testing.T) {
		m, r := newMonitor(t)
		start := time.Now()
		m.Watch("c", Check{HTTPPath: "/healthz", HTTPPort: port, Interval: fast, Retries: 1, StartPeriod: period}, Target{Addr: addr})
		r.expect(t, change{"c", StatusStarting})
		r.quiet(t, period/2)
		if res, _ := m.Result("c"); res.Status != StatusStarting || res.FailingStreak != 0 || res.LastCheck.IsZero() {
			t.Errorf("in the start period: got %+v, want starting, streak 0, probed", res)
		}
		r.expect(t, change{"c", StatusUnhealthy})
		if d := time.Since(start); d < period {
			t.Errorf("unhealthy after %v, want after the start period %v", d, period)
		}
	})

	t.Run("success ends it", func(t *testing.T) {
		code.Store(http.StatusOK)
		m, r := newMonitor(t)
		m.Watch("c", Check{HTTPPath: "/healthz", HTTPPort: port, Interval: fast, Retries: 1, StartPeriod: time.Hour}, Target{Addr: addr})
		r.expect(t, change{"c", StatusStarting}, change{"c", StatusHealthy})
		// Once healthy, failures count even within the start period.
		code.Store(http.StatusInternalServerError)
		r.expect(t, change{"c", StatusUnhealthy})
	})

	t.Run("started long ago", func(t *testing.T) {
		code.Store(http.StatusInternalServerError)
		m, r := newMonitor(t)
		m.Watch("c", Check{HTTPPath: "/healthz", HTTPPort: port, Interval: fast, Retries: 1, StartPeriod: time.Hour},
			Target{Addr: addr, StartedAt: time.Now().Add(-2 * time.Hour)})
		r.expect(t, change{"c", StatusStarting}, change{"c", StatusUnhealthy})
	})
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	addr, port := addrPort(t, srv.Listener.Addr())
	m, r := newMonitor(t)
	start := time.Now()
	m.Watch("slow", Check{HTTPPath: "/", HTTPPort: port, Interval: fast, Timeout: 50 * time.Millisecond, Retries: 2}, Target{Addr: addr})
	r.expect(t, change{"slow", StatusStarting}, change{"slow", StatusUnhealthy})
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("unhealthy after %v, want two timeouts of 50ms first", d)
	}
	res, _ := m.Result("slow")
	if res.LastOutput != "timed out after 50ms" {
		t.Errorf("got output %q, want %q", res.LastOutput, "timed out after 50ms")
	}
}

func TestExec(t *testing.T) {
	var (
		mu       sync.Mutex
		exitCode int
		execErr  error
		gotArgv  []string
	)
	set := func(code int, err error) {
		mu.Lock()
		defer mu.Unlock()
		exitCode, execErr = code, err
	}
	target := Target{Exec: func(ctx context.Context, argv []string) (int, string, error) {
		mu.Lock()
		defer mu.Unlock()
		gotArgv = argv
		if _, ok := ctx.Deadline(); !ok {
			return -1, "", errors.New("no deadline on the probe")
		}
		if exitCode != 0 {
			return exitCode, "", execErr
		}
		return 0, "accepting connections", execErr
	}}
	m, r := newMonitor(t)
	check := Check{Command: []string{"pg_isready", "-q"}, Interval: fast, Retries: 1}
	m.Watch("pg", check, target)
	r.expect(t, change{"pg", StatusStarting}, change{"pg", StatusHealthy})
	res, _ := m.Result("pg")
	if res.LastOutput != "accepting connections" {
		t.Errorf("got output %q, want the command's", res.LastOutput)
	}

	set(2, nil)
	r.expect(t, change{"pg", StatusUnhealthy})
	res, _ = m.Result("pg")
	if res.LastOutput != "exit code 2" {
		t.Errorf("got output %q, want %q", res.LastOutput, "exit code 2")
	}

	set(0, nil)
	r.expect(t, change{"pg", StatusHealthy})
	set(0, errors.New("container is gone"))
	r.expect(t, change{"pg", StatusUnhealthy})
	res, _ = m.Result("pg")
	if res.LastOutput != "container is gone" {
		t.Errorf("got output %q, want the exec error", res.LastOutput)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(check.Command, gotArgv); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}
}

func TestWatchReplaceUnwatchClose(t *testing.T) {
	var code atomic.Int32
	code.Store(http.StatusOK)
	addr, port := statusServer(t, &code)
	good := Check{HTTPPath: "/healthz", HTTPPort: port, Interval: fast, Retries: 1}
	bad := Check{HTTPPath: "/nope", HTTPPort: port, Interval: fast, Retries: 1}
	r := newRecorder()
	m := NewMonitor(nil, r.onChange)

	m.Watch("a", good, Target{Addr: addr})
	r.expect(t, change{"a", StatusStarting}, change{"a", StatusHealthy})
	m.Watch("a", bad, Target{Addr: addr}) // replaced: starting again
	r.expect(t, change{"a", StatusStarting}, change{"a", StatusUnhealthy})

	m.Unwatch("a")
	if _, ok := m.Result("a"); ok {
		t.Error("got a result after Unwatch, want none")
	}
	r.quiet(t, 5*fast)

	m.Watch("b", Check{TCPPort: 1}, Target{})               // invalid address: fails
	m.Watch("c", Check{HTTPPort: port}, Target{Addr: addr}) // invalid check: fails
	r.expectAnyOrder(t, change{"b", StatusStarting}, change{"c", StatusStarting})
	m.Close()
	m.Watch("d", good, Target{Addr: addr}) // after Close: nothing
	r.quiet(t, 5*fast)
	if _, ok := m.Result("b"); ok {
		t.Error("got a result after Close, want none")
	}
}

func TestInvalidCheckFails(t *testing.T) {
	m, r := newMonitor(t)
	m.Watch("c", Check{HTTPPort: 80, Interval: fast, Retries: 1}, Target{Addr: netip.MustParseAddr("127.0.0.1")})
	r.expect(t, change{"c", StatusStarting}, change{"c", StatusUnhealthy})
	res, _ := m.Result("c")
	if !strings.Contains(res.LastOutput, "httpPath") {
		t.Errorf("got output %q, want the validation error naming httpPath", res.LastOutput)
	}
}
