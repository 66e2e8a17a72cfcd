package logfile

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestMain turns the test binary into the logging binary when a test starts
// it the way a containerd shim would.
func TestMain(m *testing.M) {
	if IsDriverInvocation(os.Args[1:], os.Getenv) {
		os.Exit(Main())
	}
	os.Exit(m.Run())
}

// shuffledArgs flattens DriverArgs in random order, as the shim does.
func shuffledArgs(dir string, maxBytes int64, maxFiles int) []string {
	var pairs [][2]string
	for k, v := range DriverArgs(dir, maxBytes, maxFiles) {
		pairs = append(pairs, [2]string{k, v})
	}
	rand.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
	var args []string
	for _, p := range pairs {
		args = append(args, p[0], p[1])
	}
	return args
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		w.Close()
	})
	return r, w
}

// driverOutput is what a driver test writes and expects back, per stream.
var (
	longLine     = strings.Repeat("0123456789", MaxLineBytes/10+5)
	stdoutWrites = []string{"out 1\nout 2\n", "out ", "3\n", longLine + "\n", "no newline at end"}
	stderrWrites = []string{"err 1\n", "\n", "err 3\r\n"}
	wantStdout   = []string{"out 1", "out 2", "out 3", longLine[:MaxLineBytes], longLine[MaxLineBytes:], "no newline at end"}
	wantStderr   = []string{"err 1", "", "err 3\r"}
)

// checkDriverLog reads the container's log and compares it per stream.
func checkDriverLog(t *testing.T, path string, wantOut, wantErr []string) {
	t.Helper()
	got := map[string][]string{}
	var partial []bool
	for _, e := range readAll(t, path, ReadOptions{}) {
		got[e.Stream] = append(got[e.Stream], e.Line)
		if e.Stream == Stdout {
			partial = append(partial, e.Partial)
		}
	}
	want := map[string][]string{}
	if len(wantOut) > 0 {
		want[Stdout] = wantOut
	}
	if len(wantErr) > 0 {
		want[Stderr] = wantErr
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
	if len(wantOut) == len(wantStdout) {
		wantPartial := []bool{false, false, false, true, false, false}
		if diff := cmp.Diff(wantPartial, partial); diff != "" {
			t.Errorf("stdout partial flags (-want +got):\n%s", diff)
		}
	}
}

func TestRunDriver(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs") // created by the driver
	outR, outW := pipe(t)
	errR, errW := pipe(t)
	readyR, readyW := pipe(t)

	done := make(chan error, 1)
	go func() {
		done <- RunDriver(context.Background(), shuffledArgs(dir, 1<<20, 3),
			env(map[string]string{"CONTAINER_ID": "web-1", "CONTAINER_NAMESPACE": "hearth"}),
			outR, errR, readyW)
	}()
	// The shim waits for ready before it starts the container.
	if _, err := io.ReadAll(readyR); err != nil {
		t.Fatalf("reading ready: %v", err)
	}
	for _, s := range stdoutWrites {
		if _, err := io.WriteString(outW, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range stderrWrites {
		if _, err := io.WriteString(errW, s); err != nil {
			t.Fatal(err)
		}
	}
	outW.Close()
	errW.Close()
	if err := <-done; err != nil {
		t.Fatalf("RunDriver: %v", err)
	}
	checkDriverLog(t, Path(dir, "web-1"), wantStdout, wantStderr)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o750 {
		t.Errorf("log dir mode: got %v, want 0750", got)
	}
}

func TestRunDriverDrainsOnCancel(t *testing.T) {
	dir := t.TempDir()
	outR, outW := pipe(t)
	errR, _ := pipe(t)
	_, readyW := pipe(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	done := make(chan error, 1)
	go func() {
		done <- RunDriver(ctx, shuffledArgs(dir, 1<<20, 1),
			env(map[string]string{"CONTAINER_ID": "c"}), outR, errR, readyW)
	}()
	if _, err := io.WriteString(outW, "before\n"); err != nil {
		t.Fatal(err)
	}
	cancel()
	// Written after the stop, within the drain time: still kept.
	if _, err := io.WriteString(outW, "while draining\n"); err != nil {
		t.Fatal(err)
	}
	timeout := time.NewTimer(drainTimeout + 5*time.Second)
	defer timeout.Stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunDriver: %v", err)
		}
	case <-timeout.C:
		t.Fatal("RunDriver did not return after its drain time")
	}
	checkDriverLog(t, Path(dir, "c"), []string{"before", "while draining"}, nil)
}

func TestRunDriverBadArgs(t *testing.T) {
	dir := t.TempDir()
	good := func() map[string]string { return DriverArgs(dir, 4096, 2) }
	flat := func(m map[string]string) []string {
		var args []string
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range m {
				if !yield(k) {
					return
				}
			}
		}) {
			args = append(args, k, m[k])
		}
		return args
	}
	with := func(k, v string) []string {
		m := good()
		m[k] = v
		return flat(m)
	}
	without := func(k string) []string {
		m := good()
		delete(m, k)
		return flat(m)
	}
	tests := []struct {
		name string
		args []string
		id   string
		want string
	}{
		{"odd", append(flat(good()), "extra"), "c", "pairs"},
		{"unknown", with("color", "red"), "c", `"color"`},
		{"twice", append(flat(good()), "dir", dir), "c", `"dir"`},
		{"no dir", without("dir"), "c", `"dir"`},
		{"no marker", without(DriverMarker), "c", DriverMarker},
		{"bad version", with(DriverMarker, "9"), "c", DriverMarker},
		{"relative dir", with("dir", "logs"), "c", "dir"},
		{"max-bytes text", with("max-bytes", "big"), "c", "max-bytes"},
		{"max-bytes small", with("max-bytes", "10"), "c", "max-bytes"},
		{"max-bytes huge", with("max-bytes", "99999999999"), "c", "max-bytes"},
		{"max-files zero", with("max-files", "0"), "c", "max-files"},
		{"max-files text", with("max-files", "x"), "c", "max-files"},
		{"no id", flat(good()), "", "CONTAINER_ID"},
		{"id with slash", flat(good()), "../etc", "CONTAINER_ID"},
		{"id with space", flat(good()), "a b", "CONTAINER_ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, readyW := pipe(t)
			err := RunDriver(context.Background(), tc.args, env(map[string]string{"CONTAINER_ID": tc.id}),
				strings.NewReader(""), strings.NewReader(""), readyW)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestIsDriverInvocation(t *testing.T) {
	withID := env(map[string]string{"CONTAINER_ID": "c"})
	tests := []struct {
		name   string
		args   []string
		getenv func(string) string
		want   bool
	}{
		{"driver", shuffledArgs("/l", 4096, 1), withID, true},
		{"no id", shuffledArgs("/l", 4096, 1), env(nil), false},
		{"daemon", []string{"--config", "/etc/hearth.toml"}, withID, false},
		{"marker as value", []string{"x", DriverMarker}, withID, false},
		{"odd", []string{DriverMarker, "1", "dir"}, withID, false},
		{"none", nil, withID, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsDriverInvocation(tc.args, tc.getenv); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDriverProcess starts the test binary as the logging binary with the
// shim's descriptors: 3 stdout, 4 stderr, 5 ready, and only CONTAINER_ID and
// CONTAINER_NAMESPACE in its environment.
func TestDriverProcess(t *testing.T) {
	tests := []struct {
		name string
		// stop ends the driver: closing the container's streams, or SIGTERM
		// with the streams still open.
		sigterm bool
	}{
		{"streams end", false},
		{"sigterm", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			outR, outW := pipe(t)
			errR, errW := pipe(t)
			readyR, readyW := pipe(t)
			cmd := exec.Command(os.Args[0], shuffledArgs(dir, 1<<20, 2)...)
			cmd.Env = []string{"CONTAINER_ID=app.web-1", "CONTAINER_NAMESPACE=hearth",
				"GORACE=atexit_sleep_ms=0"} // only for a -race test binary: exit at once
			cmd.ExtraFiles = []*os.File{outR, errR, readyW}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if cmd.ProcessState == nil {
					cmd.Process.Kill()
					cmd.Wait()
				}
			})
			// Like the shim: keep only the write ends.
			outR.Close()
			errR.Close()
			readyW.Close()

			got, err := io.ReadAll(readyR)
			if err != nil {
				t.Fatalf("reading ready: %v", err)
			}
			if diff := cmp.Diff([]byte{0}, got); diff != "" {
				t.Errorf("ready bytes (-want +got):\n%s", diff)
			}
			for _, s := range stdoutWrites {
				if _, err := io.WriteString(outW, s); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range stderrWrites {
				if _, err := io.WriteString(errW, s); err != nil {
					t.Fatal(err)
				}
			}
			if tc.sigterm {
				if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			} else {
				outW.Close()
				errW.Close()
			}
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			timeout := time.NewTimer(drainTimeout + 10*time.Second)
			defer timeout.Stop()
			select {
			case err := <-waited:
				if err != nil {
					t.Fatalf("driver: %v, stderr: %s", err, stderr.String())
				}
			case <-timeout.C:
				cmd.Process.Kill()
				<-waited
				t.Fatal("driver did not exit")
			}
			checkDriverLog(t, Path(dir, "app.web-1"), wantStdout, wantStderr)
		})
	}
}
