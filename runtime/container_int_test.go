package rt_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	rt "github.com/hearthbox/hearth/runtime"
)

// startWeb pulls the web sample, makes its group's network and runs it.
func startWeb(t *testing.T, e *sharedEnv, tc *testClient, id, group string, tune ...func(*rt.ContainerSpec)) (rt.ContainerSpec, rt.ContainerInfo) {
	t.Helper()
	ctx := context.Background()
	if _, err := tc.EnsureNetwork(ctx, rt.NetworkSpec{Name: group, Egress: true}); err != nil {
		t.Fatalf("network: %v", err)
	}
	s := tc.webSpec(id, group, tc.pull(t, e, "web:1.0"), group)
	for _, f := range tune {
		f(&s)
	}
	info := tc.run(t, s)
	if !info.IP.IsValid() {
		t.Fatalf("got no IP for %s: %+v", id, info)
	}
	waitHTTP(t, info.IP, 8080, "/healthz")
	return s, info
}

func TestContainerLockdown(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	_, info := startWeb(t, e, tc, "lock-web", "lock")
	ctx := context.Background()

	writes := []struct {
		path string
		ok   bool
	}{
		{"/app/data/probe", true},
		{"/tmp/probe", true},
		{"/run/probe", true},
		{"/probe", false},
		{"/etc/probe", false},
		{"/app/probe", false},
		{"/etc/resolv.conf", false},
	}
	for _, w := range writes {
		t.Run("write "+w.path, func(t *testing.T) {
			body, err := get(ctx, info.IP, 8080, "/write?path="+w.path)
			if w.ok && err != nil {
				t.Fatalf("got %v, want the write to work", err)
			}
			if !w.ok && err == nil {
				t.Fatalf("got %q, want the write refused", body)
			}
		})
	}

	status, err := get(ctx, info.IP, 8080, "/proc?file=status")
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	want := map[string]string{
		"CapInh": "0000000000000000", "CapPrm": "0000000000000000", "CapEff": "0000000000000000",
		"CapBnd": "0000000000000000", "CapAmb": "0000000000000000",
		"NoNewPrivs": "1", "Seccomp": "2",
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("%s: got %q, want %q", k, fields[k], v)
		}
	}
	if fields["Uid"] == "" || strings.HasPrefix(fields["Uid"], "0\t") {
		t.Errorf("Uid: got %q, want the image's non-root user", fields["Uid"])
	}

	// The data folder on the host holds what the container wrote.
	if _, err := os.Stat(filepath.Join(tc.dataRoot, "lock", "web", "probe")); err != nil {
		t.Errorf("volume file on the host: %v", err)
	}
}

func TestCapabilityKeptWhenAsked(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	_, info := startWeb(t, e, tc, "cap-web", "capa", func(s *rt.ContainerSpec) {
		s.Capabilities = []string{"NET_BIND_SERVICE"}
	})
	status, err := get(context.Background(), info.IP, 8080, "/proc?file=status")
	if err != nil {
		t.Fatal(err)
	}
	// CAP_NET_BIND_SERVICE is bit 10.
	if !regexp.MustCompile(`CapBnd:\s+0000000000000400`).MatchString(status) {
		t.Errorf("got %q, want only CAP_NET_BIND_SERVICE in the bounding set", regexp.MustCompile(`CapBnd:.*`).FindString(status))
	}
}

func TestVolumeSurvivesReplace(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	ctx := context.Background()
	s, info := startWeb(t, e, tc, "vol-web", "vol")
	if _, err := get(ctx, info.IP, 8080, "/write?path=/app/data/keep.txt"); err != nil {
		t.Fatal(err)
	}

	// Same spec: nothing happens, the same process keeps running.
	same, changed, err := tc.Ensure(ctx, s)
	if err != nil || changed || same.PID != info.PID {
		t.Fatalf("got changed=%v pid %d err %v, want no change and pid %d", changed, same.PID, err, info.PID)
	}

	// Changed spec: the container is replaced, the volume stays.
	s.Env = append(s.Env, "NEW_SETTING=1")
	replaced, changed, err := tc.Ensure(ctx, s)
	if err != nil || !changed {
		t.Fatalf("got changed=%v err %v, want a replacement", changed, err)
	}
	if replaced.State != rt.StateCreated {
		t.Errorf("got state %s after replace, want created", replaced.State)
	}
	info2, err := tc.Start(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitHTTP(t, info2.IP, 8080, "/healthz")
	body, err := get(ctx, info2.IP, 8080, "/read?path=/app/data/keep.txt")
	if err != nil {
		t.Fatalf("read after replace: %v", err)
	}
	if body == "" {
		t.Error("got an empty file after replace, want what the first container wrote")
	}
	root, err := get(ctx, info2.IP, 8080, "/")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(root, "NEW_SETTING") {
		t.Errorf("got env %s, want NEW_SETTING in the new container", root)
	}
}

func TestMemoryLimitAndOOM(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	events := tc.Events(ctx)
	s, info := startWeb(t, e, tc, "oom-web", "oom", func(s *rt.ContainerSpec) {
		s.Resources.MemoryBytes = 32 << 20
		s.Health = nil
	})
	// Within the limit it works.
	if _, err := get(ctx, info.IP, 8080, "/alloc?mb=4"); err != nil {
		t.Fatalf("small allocation: %v", err)
	}
	// Past it the kernel kills the app.
	if _, err := get(ctx, info.IP, 8080, "/alloc?mb=64"); err == nil {
		t.Fatal("allocating twice the limit worked, want an OOM kill")
	}
	var sawOOM, sawExit bool
	for !(sawOOM && sawExit) {
		select {
		case ev := <-events:
			if ev.Container != s.ID {
				continue
			}
			switch ev.Type {
			case rt.EventOOM:
				sawOOM = true
			case rt.EventExit:
				sawExit = true
				if ev.ExitCode != 137 {
					t.Errorf("got exit code %d, want 137 (SIGKILL)", ev.ExitCode)
				}
			}
		case <-ctx.Done():
			t.Fatalf("events: got oom=%v exit=%v, want both", sawOOM, sawExit)
		}
	}
	waitFor(t, "inspect reports the OOM kill", 5*time.Second, func() (bool, error) {
		got, err := tc.Inspect(ctx, s.ID)
		return err == nil && got.State == rt.StateStopped && got.OOMKilled, err
	})
}

func TestLogsRotateAtCap(t *testing.T) {
	e := needEnv(t)
	const limit = 32 << 10
	tc := newClient(t, e, func(c *rt.Config) {
		c.LogMaxBytes = limit
		c.LogMaxFiles = 3
	})
	ctx := context.Background()
	s, info := startWeb(t, e, tc, "log-web", "logs")
	if _, err := get(ctx, info.IP, 8080, "/log?lines=2000&size=100"); err != nil {
		t.Fatal(err)
	}
	logDir := filepath.Join(tc.cfg.StateDir, "logs")
	var files []string
	waitFor(t, "log rotated", 10*time.Second, func() (bool, error) {
		m, err := filepath.Glob(filepath.Join(logDir, s.ID+".log*"))
		files = m
		return len(m) == 3, err
	})
	var total int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > limit+512 {
			t.Errorf("%s: got %d bytes, want at most the cap %d plus a line", f, st.Size(), limit)
		}
		total += st.Size()
	}
	if total > 3*(limit+512) {
		t.Errorf("got %d bytes of logs in all, want at most 3 files' worth", total)
	}
	// The newest lines are readable, stdout and stderr alike. The two
	// streams are separate pipes copied side by side, so first wait until
	// the burst is all written, then write one line to each.
	lastLines := func(n int) map[string]string {
		got := map[string]string{}
		_ = tc.Logs(ctx, s.ID, rt.LogOptions{Tail: n}, func(en rt.LogEntry) error {
			got[en.Line] = en.Stream
			return nil
		})
		return got
	}
	waitFor(t, "the burst written", 10*time.Second, func() (bool, error) {
		for line := range lastLines(3) {
			if strings.HasPrefix(line, "web log line 1999 ") {
				return true, nil
			}
		}
		return false, nil
	})
	if _, err := get(ctx, info.IP, 8080, "/log?lines=1&size=12"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the last lines of both streams", 10*time.Second, func() (bool, error) {
		got := lastLines(2)
		return got["web log line"] == "stdout" && got["web stderr line after 1 lines"] == "stderr", nil
	})

	// Follow sees a line written after it started.
	fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	found := make(chan struct{})
	go func() {
		_ = tc.Logs(fctx, s.ID, rt.LogOptions{Follow: true, Tail: 1}, func(en rt.LogEntry) error {
			if strings.Contains(en.Line, "after 7 lines") {
				close(found)
				cancel()
			}
			return nil
		})
	}()
	time.Sleep(200 * time.Millisecond)
	if _, err := get(ctx, info.IP, 8080, "/log?lines=7&size=10"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-found:
	case <-fctx.Done():
		t.Fatal("follow did not see the new line")
	}
}

func TestStatsUnderLoad(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	ctx := context.Background()
	s, info := startWeb(t, e, tc, "stats-web", "stats")
	if _, err := get(ctx, info.IP, 8080, "/burn?ms=300"); err != nil {
		t.Fatal(err)
	}
	st, err := tc.Stats(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(st)
	if st.CPUNanos < uint64(100*time.Millisecond) {
		t.Errorf("got %s, want at least 100 ms of CPU after burning 300 ms", b)
	}
	if st.MemoryBytes == 0 || st.MemoryLimit != 64<<20 {
		t.Errorf("got %s, want memory in use and the 64 MiB limit", b)
	}
	if st.Pids == 0 || st.NetRxBytes == 0 || st.NetTxBytes == 0 {
		t.Errorf("got %s, want pids and network bytes", b)
	}
}

func TestHealthGoesUnhealthyWhenAppBreaks(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	events := tc.Events(ctx)
	s, info := startWeb(t, e, tc, "health-web", "health")
	waitHealth := func(want rt.Health) {
		t.Helper()
		for {
			select {
			case ev := <-events:
				if ev.Container == s.ID && ev.Type == rt.EventHealth && ev.Health == want {
					got, err := tc.Inspect(ctx, s.ID)
					if err != nil || got.Health != want {
						t.Fatalf("inspect: got %q (%v), want %q", got.Health, err, want)
					}
					return
				}
			case <-ctx.Done():
				t.Fatalf("never became %s", want)
			}
		}
	}
	waitHealth(rt.HealthHealthy)
	if _, err := postURL(ctx, info, "/break"); err != nil {
		t.Fatal(err)
	}
	waitHealth(rt.HealthUnhealthy)
	if _, err := postURL(ctx, info, "/heal"); err != nil {
		t.Fatal(err)
	}
	waitHealth(rt.HealthHealthy)
}

func TestHealthByCommandAndTCP(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	checks := map[string]*rt.HealthCheck{
		"tcp":     {TCPPort: 8080, Interval: 200 * time.Millisecond},
		"command": {Command: []string{"/app/web", "-check", "http://127.0.0.1:8080/healthz"}, Interval: 200 * time.Millisecond},
	}
	for name, hc := range checks {
		t.Run(name, func(t *testing.T) {
			s, _ := startWeb(t, e, tc, "hc-"+name, "hc-"+name, func(s *rt.ContainerSpec) { s.Health = hc })
			waitFor(t, name+" check healthy", 20*time.Second, func() (bool, error) {
				got, err := tc.Inspect(context.Background(), s.ID)
				return got.Health == rt.HealthHealthy, err
			})
		})
	}
}
