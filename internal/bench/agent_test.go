package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/state"
)

// fakeHearthdEnv makes the test binary act as a stand-in hearthd (see
// TestMain): "ready" prints the ready line and waits for SIGTERM, "fail"
// exits with status 3 at once.
const fakeHearthdEnv = "HBENCH_FAKE_HEARTHD"

func TestMain(m *testing.M) {
	switch os.Getenv(fakeHearthdEnv) {
	case "ready":
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		fmt.Fprintln(os.Stderr, "level=INFO msg=starting")
		fmt.Print("HEARTH_SO") // the ready line in two writes
		fmt.Println("CKET=/run/test.sock")
		<-sig
		os.Exit(0)
	case "fail":
		fmt.Fprintln(os.Stderr, "level=ERROR msg=\"hearthd stopped\" err=boom")
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// sampleAgentResults are 5 starts per size of made-up measurements.
func sampleAgentResults() AgentResults {
	return AgentResults{
		Time:   time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC),
		Method: "hearthd --net-prefix hbag (test)",
		Healthy: map[int][]float64{
			1:  {90.1, 85.2, 88.3, 101.4, 86.5},
			10: {141, 150.5, 139.25, 160, 145},
			50: {320.04, 300, 345.5, 310, 333.3},
		},
		Ready: map[int][]float64{
			1:  {100, 99, 98, 110, 97},
			10: {330, 340, 320, 350, 310},
			50: {1400, 1500, 1550, 1480, 1490},
		},
		Seed:    map[int]float64{10: 3547.82, 50: 14964.04},
		RSS:     []float64{32.9, 32.94, 32.86, 33.1, 32.1},
		PeakRSS: 33.3, AnonRSS: 14.2, FileRSS: 18.7,
		Idle: 10 * time.Second,
		Machine: Machine{
			Cores: 2, CPU: "AMD EPYC", Kernel: "6.1.0-18-amd64", Cgroup: "v2",
			Containerd: "1.6.20~ds1", Go: "go1.26.6",
		},
	}
}

func TestAgentReportGolden(t *testing.T) {
	r, err := newAgentReport(sampleAgentResults())
	if err != nil {
		t.Fatalf("newAgentReport: %v", err)
	}
	var js, table bytes.Buffer
	if err := writeJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	if err := writeAgentTable(&table, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "agent.json.golden", js.Bytes())
	golden(t, "agent.table.golden", table.Bytes())
}

func TestAgentReportKeys(t *testing.T) {
	// The issue names these keys; the lead's tooling reads them.
	r, err := newAgentReport(sampleAgentResults())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"reconcile_ms_n1": 88.3, "reconcile_ms_n10": 145, "reconcile_ms_n50": 320, "rss_mb_n50": 32.9}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %v, want %v", k, got[k], v)
		}
	}
}

func TestAgentReportTargets(t *testing.T) {
	tests := []struct {
		name            string
		reconcile, rss  float64
		wantReconcile   bool
		wantRSS, wantOK bool
	}{
		{"both met", 300, 30, true, true, true},
		{"at the limits", 2000, 40, true, true, true},
		{"too slow", 2000.1, 30, false, true, false},
		{"too big", 300, 40.1, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := sampleAgentResults()
			res.Healthy[50] = repeat(tt.reconcile, 5)
			res.RSS = repeat(tt.rss, 5)
			r, err := newAgentReport(res)
			if err != nil {
				t.Fatalf("newAgentReport: %v", err)
			}
			got := []bool{r.Targets[0].Pass, r.Targets[1].Pass, r.Pass}
			want := []bool{tt.wantReconcile, tt.wantRSS, tt.wantOK}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("reconcile, rss, overall (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAgentReportRefusesMissingParts(t *testing.T) {
	tests := []struct {
		name    string
		tweak   func(*AgentResults)
		wantErr string
	}{
		{"a size did not run", func(r *AgentResults) { delete(r.Healthy, 10) }, "10 apps: no samples"},
		{"a size has fewer starts", func(r *AgentResults) { r.Healthy[50] = r.Healthy[50][:4] }, "50 apps: 4 samples, want 5"},
		{"ready times missing", func(r *AgentResults) { r.Ready[1] = nil }, "1 apps: 0 ready times for 5 samples"},
		{"zero times", func(r *AgentResults) { r.Healthy[1] = repeat(0, 5) }, "median 0 ms is not positive"},
		{"no memory readings", func(r *AgentResults) { r.RSS = nil }, "no memory readings"},
		{"zero memory", func(r *AgentResults) { r.RSS = repeat(0, 3) }, "median 0 MB is not positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := sampleAgentResults()
			tt.tweak(&res)
			_, err := newAgentReport(res)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestAgentConfigValidation(t *testing.T) {
	good := AgentConfig{OutDir: "/tmp/out", Runs: 5, Poll: 15 * time.Millisecond, Idle: 10 * time.Second, Readings: 5, StartTimeout: time.Minute}
	tests := []struct {
		name    string
		tweak   func(*AgentConfig)
		wantErr string
	}{
		{"good", func(*AgentConfig) {}, ""},
		{"no out", func(c *AgentConfig) { c.OutDir = "" }, "out"},
		{"too few runs", func(c *AgentConfig) { c.Runs = 2 }, "agent-runs 2"},
		{"no poll", func(c *AgentConfig) { c.Poll = 0 }, "agent-poll 0s"},
		{"slow poll", func(c *AgentConfig) { c.Poll = 2 * time.Second }, "agent-poll 2s"},
		{"negative idle", func(c *AgentConfig) { c.Idle = -time.Second }, "idle -1s"},
		{"no readings", func(c *AgentConfig) { c.Readings = 0 }, "readings 0"},
		{"no timeout", func(c *AgentConfig) { c.StartTimeout = 0 }, "agent-timeout 0s"},
		{"bad prefix", func(c *AgentConfig) { c.NetPrefix = "HB-AG" }, "net prefix"},
		{"long prefix", func(c *AgentConfig) { c.NetPrefix = "hbagentbench" }, "net prefix"},
		{"small pool", func(c *AgentConfig) { c.NetPool = netip.MustParsePrefix("10.238.0.0/24") }, "net pool"},
		{"ipv6 pool", func(c *AgentConfig) { c.NetPool = netip.MustParsePrefix("fd00::/48") }, "net pool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.tweak(&c)
			got, err := c.withDefaults()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tt.wantErr == "" && (got.NetPrefix != "hbag" || got.NetPool != netip.MustParsePrefix("10.238.0.0/16")):
				t.Errorf("got prefix %q and pool %s, want hbag and 10.238.0.0/16", got.NetPrefix, got.NetPool)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got error %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
}

func TestCloneIDs(t *testing.T) {
	tests := []struct {
		name       string
		have, want int
		ids        []string
	}{
		{"none", 1, 1, nil},
		{"one to three", 1, 3, []string{"hello-2", "hello-3"}},
		{"ten to twelve", 10, 12, []string{"hello-11", "hello-12"}},
		{"shrinking makes none", 5, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.ids, cloneIDs(tt.have, tt.want)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCloneApps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hearth.db")
	store, err := state.Open(path, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	orig := state.App{
		ID: seedApp, CatalogID: "samples", Version: seedVersion,
		Manifest: json.RawMessage(`{"id":"hello","version":"1.0.0"}`),
		Settings: map[string]string{"greeting": "hello"}, Secrets: map[string]string{"api_token": "s3cret"},
		Images: map[string]string{"web": "127.0.0.1:1/samples/web:1.0@sha256:00"}, Wanted: state.WantRunning,
	}
	if err := store.PutApp(orig); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	if err := cloneApps(path, seedApp, cloneIDs(1, 3)); err != nil {
		t.Fatalf("cloneApps: %v", err)
	}
	if err := cloneApps(path, seedApp, []string{"hello-2"}); err != nil {
		t.Fatalf("cloneApps again: %v", err)
	}
	if err := cloneApps(path, "missing", []string{"x-2"}); err == nil {
		t.Error("cloning a missing app: got no error, want one")
	}

	store, err = state.Open(path, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	apps, err := store.Apps()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	gens := map[uint64]bool{}
	for _, a := range apps {
		ids = append(ids, a.ID)
		gens[a.Generation] = true
		want := orig
		want.ID = a.ID
		ignore := cmpopts.IgnoreFields(state.App{}, "Installed", "Updated", "Generation")
		if diff := cmp.Diff(want, a, ignore); diff != "" {
			t.Errorf("app %s (-want +got):\n%s", a.ID, diff)
		}
	}
	if diff := cmp.Diff([]string{"hello", "hello-2", "hello-3"}, ids); diff != "" {
		t.Errorf("apps (-want +got):\n%s", diff)
	}
	if len(gens) != 3 {
		t.Errorf("got %d distinct generations, want 3", len(gens))
	}
}

func TestAllHealthy(t *testing.T) {
	apps := func(states ...string) []api.App {
		var out []api.App
		for i, s := range states {
			out = append(out, api.App{ID: fmt.Sprintf("hello-%d", i), State: s})
		}
		return out
	}
	tests := []struct {
		name    string
		apps    []api.App
		n       int
		want    bool
		summary string
	}{
		{"all healthy", apps("healthy", "healthy"), 2, true, ""},
		{"one starting", apps("healthy", "starting", "healthy"), 3, false, "3 of 3 apps, 2 healthy, 1 starting"},
		{"too few", apps("healthy"), 2, false, "1 of 2 apps, 1 healthy"},
		{"too many", apps("healthy", "healthy", "healthy"), 2, false, "3 of 2 apps, 3 healthy"},
		{"none", nil, 1, false, "0 of 1 apps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, summary := allHealthy(tt.apps, tt.n)
			if got != tt.want || summary != tt.summary {
				t.Errorf("got %v %q, want %v %q", got, summary, tt.want, tt.summary)
			}
		})
	}
}

func TestParseProcMemory(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    procMemory
		wantErr string
	}{
		{
			name:   "a process",
			status: "Name:\thearthd\nVmHWM:\t   34100 kB\nVmRSS:\t   33688 kB\nRssAnon:\t   14540 kB\nRssFile:\t   19148 kB\nRssShmem:\t       0 kB\n",
			want:   procMemory{RSS: 33688, HWM: 34100, Anon: 14540, File: 19148},
		},
		{name: "a kernel thread", status: "Name:\tkthreadd\nState:\tS (sleeping)\n", wantErr: "missing"},
		{name: "another unit", status: "VmHWM:\t1 kB\nVmRSS:\t1 MB\nRssAnon:\t1 kB\nRssFile:\t1 kB\n", wantErr: "VmRSS"},
		{name: "not a number", status: "VmHWM:\t1 kB\nVmRSS:\tx kB\nRssAnon:\t1 kB\nRssFile:\t1 kB\n", wantErr: "not a size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcMemory([]byte(tt.status))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("memory (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("this process", func(t *testing.T) {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			t.Fatal(err)
		}
		m, err := parseProcMemory(b)
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		if m.RSS <= 0 || m.HWM < m.RSS || m.Anon+m.File > m.RSS {
			t.Errorf("got %+v, want 0 < RSS <= HWM and Anon+File <= RSS", m)
		}
	})
}

func TestLineWatcher(t *testing.T) {
	var out bytes.Buffer
	l := newLineWatcher(&out, readyLine)
	before := time.Now()
	writes := []string{"level=INFO msg=x\nHEARTH_", "SOCKET=/a.sock", "\nHEARTH_SOCKET=/b.sock\n"}
	for _, w := range writes {
		if n, err := l.Write([]byte(w)); err != nil || n != len(w) {
			t.Fatalf("Write(%q): got %d, %v, want %d, nil", w, n, err, len(w))
		}
		if w == writes[1] {
			if _, ok := l.seenAt(); ok {
				t.Fatal("seen before the line ended, want not yet")
			}
		}
	}
	at, ok := l.seenAt()
	if !ok || at.Before(before) {
		t.Errorf("got %v, %v, want a time after %v", at, ok, before)
	}
	select {
	case <-l.seen:
	default:
		t.Error("seen is not closed")
	}
	if got, want := out.String(), strings.Join(writes, ""); got != want {
		t.Errorf("passed on %q, want %q", got, want)
	}
}

func TestDaemonEnv(t *testing.T) {
	got := daemonEnv([]string{"PATH=/bin", "NOTIFY_SOCKET=/run/systemd/notify", "WATCHDOG_USEC=1", "HOME=/root", "LISTEN_FDS=3"})
	if diff := cmp.Diff([]string{"PATH=/bin", "HOME=/root"}, got); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}

// TestHearthdProcess runs the test binary as a stand-in hearthd: the ready
// line is seen, the memory read, SIGTERM stops it with status 0, and a
// failing one's exit and log come back as the error.
func TestHearthdProcess(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pin := newPinnedThread()
	t.Cleanup(pin.close)

	t.Run("ready then SIGTERM", func(t *testing.T) {
		t.Setenv(fakeHearthdEnv, "ready")
		h, err := startHearthd(pin, self, nil, filepath.Join(t.TempDir(), "hearthd.log"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.stop() })
		select {
		case <-h.out.seen:
		case <-h.done:
			t.Fatalf("exited before the ready line: %v: %s", h.err, h.tail())
		case <-time.After(10 * time.Second):
			t.Fatalf("no ready line in 10 s: %s", h.tail())
		}
		if at, _ := h.out.seenAt(); at.Before(h.started) {
			t.Errorf("ready at %v, before the start %v", at, h.started)
		}
		m, err := h.memory()
		if err != nil || m.RSS <= 0 {
			t.Errorf("memory: got %+v, %v, want a positive RSS", m, err)
		}
		if err := h.stop(); err != nil {
			t.Errorf("stop: got %v, want nil", err)
		}
		if !strings.Contains(h.tail(), "HEARTH_SOCKET=/run/test.sock") || !strings.Contains(h.tail(), "msg=starting") {
			t.Errorf("log: got %q, want stdout and stderr", h.tail())
		}
	})
	t.Run("failing", func(t *testing.T) {
		t.Setenv(fakeHearthdEnv, "fail")
		h, err := startHearthd(pin, self, nil, filepath.Join(t.TempDir(), "hearthd.log"))
		if err != nil {
			t.Fatal(err)
		}
		<-h.done
		err = h.stop()
		if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "err=boom") {
			t.Errorf("stop: got %v, want the exit status and the log", err)
		}
	})
}
