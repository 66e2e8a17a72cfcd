package rt_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rt "github.com/hearthbox/hearth/runtime"
)

// holderEnv makes the test binary a "holder": a process that owns a runtime
// client, starts two containers, says so, and waits to be killed.
const holderEnv = "HEARTH_TEST_HOLDER"

type holderJob struct {
	Config rt.Config          `json:"config"`
	Specs  []rt.ContainerSpec `json:"specs"`
}

func runHolder() int {
	var job holderJob
	if err := json.Unmarshal([]byte(os.Getenv(holderEnv)), &job); err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	ctx := context.Background()
	c, err := rt.New(ctx, job.Config)
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	if _, err := c.EnsureNetwork(ctx, rt.NetworkSpec{Name: job.Specs[0].Network, Egress: true}); err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	for _, s := range job.Specs {
		if _, _, err := c.Ensure(ctx, s); err != nil {
			fmt.Println("ERROR", err)
			return 1
		}
		info, err := c.Start(ctx, s.ID)
		if err != nil {
			fmt.Println("ERROR", err)
			return 1
		}
		fmt.Println("STARTED", s.ID, info.PID)
	}
	fmt.Println("READY")
	select {} // until killed
}

func TestRestartReattachesWithoutRestartingContainers(t *testing.T) {
	e := needEnv(t)
	// A client of this process pulls the images and, at the end, cleans up;
	// the holder process runs the containers and is killed.
	tc := newClient(t, e)
	web := tc.webSpec("keep-web", "keep", tc.pull(t, e, "web:1.0"), "keep")
	store := rt.ContainerSpec{
		ID: "keep-store", Group: "keep", Image: tc.pull(t, e, "store:1.0"), Network: "keep",
		Names: []string{"store"}, DataDir: web.DataDir,
		Volumes: []rt.Volume{{Source: "store", Target: "/app/data"}},
	}
	if err := tc.Close(); err != nil { // the holder takes over this state folder
		t.Fatal(err)
	}

	cfg := tc.cfg
	cfg.Logger = nil
	job, err := json.Marshal(holderJob{Config: cfg, Specs: []rt.ContainerSpec{web, store}})
	if err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	holder := exec.Command(self, "-test.run=^$")
	holder.Env = append(os.Environ(), holderEnv+"="+string(job))
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	holder.Stderr = os.Stderr
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	pids := map[string]string{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ERROR") {
			_ = holder.Process.Kill()
			_ = holder.Wait()
			t.Fatalf("holder: %s", line)
		}
		if f := strings.Fields(line); len(f) == 3 && f[0] == "STARTED" {
			pids[f[1]] = f[2]
		}
		if line == "READY" {
			break
		}
	}
	// Killed dead, as a crash or the OOM killer would.
	if err := holder.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = holder.Wait()
	if len(pids) != 2 {
		t.Fatalf("holder started %v, want two containers", pids)
	}

	c2, err := rt.New(context.Background(), tc.cfg)
	if err != nil {
		t.Fatalf("new client after the kill: %v", err)
	}
	tc.Client = c2 // so that the test's cleanup removes with the live client
	ctx := context.Background()
	infos, err := c2.List(ctx, "keep")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 {
		t.Fatalf("got %d containers after restart, want 2", len(infos))
	}
	var webInfo rt.ContainerInfo
	for _, info := range infos {
		if info.State != rt.StateRunning || fmt.Sprint(info.PID) != pids[info.ID] {
			t.Errorf("%s: got state %s pid %d, want running with pid %s", info.ID, info.State, info.PID, pids[info.ID])
		}
		if info.ID == web.ID {
			webInfo = info
		}
	}
	for _, s := range []rt.ContainerSpec{web, store} {
		got, changed, err := c2.Ensure(ctx, s)
		if err != nil || changed || fmt.Sprint(got.PID) != pids[s.ID] {
			t.Errorf("ensure %s again: got changed=%v pid %d err %v, want a no-op", s.ID, changed, got.PID, err)
		}
		if _, err := c2.Start(ctx, s.ID); err != nil {
			t.Errorf("start %s again: %v", s.ID, err)
		}
	}
	// Health checks and name resolution are back.
	waitFor(t, "web healthy after re-attach", 20*time.Second, func() (bool, error) {
		got, err := c2.Inspect(ctx, web.ID)
		return got.Health == rt.HealthHealthy, err
	})
	if _, err := get(ctx, webInfo.IP, 8080, "/peer"); err != nil {
		t.Errorf("web reaches store by name after re-attach: %v", err)
	}
	if _, err := os.Stat(filepath.Join(tc.cfg.StateDir, "logs")); err != nil {
		t.Errorf("logs folder: %v", err)
	}
}
