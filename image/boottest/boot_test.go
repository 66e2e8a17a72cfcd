package boottest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hearthbox/hearth/agent/api"
	osimage "github.com/hearthbox/hearth/image"
)

// need skips the test when a part is missing, or fails it under CI.
func need(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("the image test needs %s (make deps-image installs the tools)", what)
	}
	t.Skipf("the image test needs %s (make image-test installs it)", what)
}

func have(bin string) bool { _, err := exec.LookPath(bin); return err == nil }

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// TestBoot builds the test image (sample apps preloaded), boots it in qemu
// and checks what an owner sees: Hearth answering, the sample app
// installed and answering through the proxy, and after a reboot the same
// app with its data, on a data partition grown to the disk.
func TestBoot(t *testing.T) {
	// Minutes of building and booting: make image-test asks for it, make
	// test (go test ./...) does not.
	if os.Getenv("HEARTH_IMAGE_TEST") == "" {
		t.Skip("set HEARTH_IMAGE_TEST=1, or run make image-test")
	}
	arch := osimage.Arch(envOr("HEARTH_IMAGE_ARCH", string(runtime())))
	qemu := map[osimage.Arch]string{osimage.AMD64: "qemu-system-x86_64", osimage.ARM64: "qemu-system-aarch64"}[arch]
	need(t, os.Geteuid() == 0, "root")
	for _, b := range []string{"mmdebstrap", "mkfs.vfat", "mcopy", "sfdisk", "mkfs.ext4", "debugfs", qemu} {
		need(t, have(b), b)
	}
	if arch == osimage.AMD64 {
		_, err := os.Stat("/usr/share/OVMF/OVMF_CODE.fd")
		need(t, err == nil, "OVMF (/usr/share/OVMF/OVMF_CODE.fd)")
	}
	mod, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cache := envOr("HEARTH_IMAGE_CACHE", filepath.Join(mod, ".hearth", "image-cache"))
	out := envOr("HEARTH_IMAGE_OUT", filepath.Join(mod, ".hearth", "image"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))

	samples, err := prepareSamples(ctx, filepath.Join(out, "samples-"+string(arch)), arch)
	if err != nil {
		t.Fatalf("sample catalog: %v", err)
	}
	start := time.Now()
	res, err := osimage.Build(ctx, osimage.Config{Arch: arch, ModuleDir: mod, CacheDir: cache, OutDir: out, Samples: samples, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %s in %.0f s: %d bytes raw, root %d bytes", res.Image, time.Since(start).Seconds(), res.RawSize, res.RootBytes)

	work := t.TempDir()
	disk := filepath.Join(work, "disk.img")
	if out, err := exec.Command("cp", "--sparse=always", res.Image, disk).CombinedOutput(); err != nil {
		t.Fatalf("copy image: %v: %s", err, out)
	}
	// The disk is 2 GiB larger than the image: the first boot grows the
	// data partition into it.
	if err := os.Truncate(disk, res.RawSize+2<<30); err != nil {
		t.Fatal(err)
	}
	kvm := os.Getenv("HEARTH_IMAGE_NO_KVM") == "" && ProbeKVM(ctx, arch, res.Kernel, res.Initrd, work, 20*time.Second)
	t.Logf("accelerator: kvm=%v", kvm)
	ports, err := FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	http80, https443, apiFwd := ports[0], ports[1], ports[2]
	// Registered before the machines' cleanups, so it runs after them,
	// once the machine is off.
	t.Cleanup(func() {
		if t.Failed() {
			dumpJournal(t, disk, res.Layout.Part(osimage.RoleSystemA).Start, work)
		}
	})
	boot := func(n int) *Machine {
		dir := filepath.Join(work, "boot"+strconv.Itoa(n))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		m, err := Start(ctx, Options{Arch: arch, Disk: disk, Dir: dir, KVM: kvm,
			OVMFCode: "/usr/share/OVMF/OVMF_CODE.fd", OVMFVars: "/usr/share/OVMF/OVMF_VARS.fd",
			Kernel: res.Kernel, Initrd: res.Initrd, Cmdline: res.Cmdline,
			Forwards: map[int]int{80: http80, 443: https443, apiPort: apiFwd}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				// A clean power-off writes the journal out for dumpJournal.
				_ = m.Powerdown(90 * time.Second)
			}
			_ = m.Kill()
			if t.Failed() {
				t.Logf("boot %d serial console (end):\n%s", n, tail(m.Serial(), 3000))
			}
		})
		return m
	}

	// First boot: the wizard answers, the box is claimed through it, the
	// sample app installs and answers.
	m := boot(1)
	base := fmt.Sprintf("http://127.0.0.1:%d", http80)
	wizard := waitOK(t, m, base+"/setup/welcome", 10*time.Minute)
	fmt.Printf("boot_to_wizard_s=%.1f\n", wizard)
	code := waitSetupCode(t, m, 2*time.Minute)
	t.Logf("setup code on the serial console: %s", code)
	claim(t, base, code, "owner", randomPassword(t))
	t.Logf("claimed through the wizard %.1f s after qemu started", time.Since(m.Started).Seconds())
	if arch != osimage.AMD64 {
		logBootAnalysis(t, m, 1)
		_ = m.Powerdown(time.Minute)
		return
	}
	client := apiClient(t, work, apiFwd)
	app := install(t, ctx, client, "hello")
	get := appGetter(t, app, https443)
	if _, err := eventually(3*time.Minute, func() (string, error) { return get("/") }); err != nil {
		t.Fatalf("the app does not answer through the proxy: %v", err)
	}
	fmt.Printf("boot_to_app_s=%.1f\n", time.Since(m.Started).Seconds())
	logBootAnalysis(t, m, 1)
	secret := randomHex(t)
	if _, err := get("/write?path=/app/data/boottest&data=" + secret); err != nil {
		t.Fatalf("write the app's data: %v", err)
	}
	client.CloseIdleConnections()
	if err := m.Powerdown(3 * time.Minute); err != nil {
		t.Errorf("first power-off: %v", err)
	}

	// Second boot: the claimed state, the app and its data are still there.
	m = boot(2)
	again := waitOK(t, m, base+"/signin", 10*time.Minute)
	t.Logf("second boot: the sign-in page answers after %.1f s", again)
	newWizardClient(t, base).do(http.MethodGet, "/setup/code", nil, http.StatusGone)
	apps, err := client.Apps(ctx)
	if err != nil || len(apps) != 1 || apps[0].ID != "hello" {
		t.Fatalf("apps after reboot: got %v (err %v), want hello only", apps, err)
	}
	got, err := eventually(3*time.Minute, func() (string, error) { return get("/read?path=/app/data/boottest") })
	if err != nil || strings.TrimSpace(got) != secret {
		t.Fatalf("the app's data after reboot: got %q (err %v), want %q", got, err, secret)
	}
	logBootAnalysis(t, m, 2)
	client.CloseIdleConnections()
	if err := m.Powerdown(3 * time.Minute); err != nil {
		t.Errorf("second power-off: %v", err)
	}
	checkGrown(t, disk)
}

func runtime() osimage.Arch {
	out, err := exec.Command("dpkg", "--print-architecture").Output()
	if err != nil {
		return osimage.AMD64
	}
	return osimage.Arch(strings.TrimSpace(string(out)))
}

func apiClient(t *testing.T, dir string, port int) *api.Client {
	t.Helper()
	sock := filepath.Join(dir, "api.sock")
	r, err := NewRelay(sock, fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	c := api.NewClient(sock)
	t.Cleanup(func() {
		c.CloseIdleConnections()
		r.Close()
	})
	return c
}

// install installs app from the sample catalog and waits for the
// operation to end.
func install(t *testing.T, ctx context.Context, c *api.Client, app string) api.App {
	t.Helper()
	op, err := c.Install(ctx, api.InstallRequest{App: app, Catalog: "samples"})
	if err != nil {
		t.Fatalf("install %s: %v", app, err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for op.State == "running" {
		if time.Now().After(deadline) {
			t.Fatalf("install %s: still running after 5 min: %+v", app, op)
		}
		time.Sleep(time.Second)
		if op, err = c.Operation(ctx, op.ID); err != nil {
			t.Fatalf("install %s: %v", app, err)
		}
	}
	if op.State != "done" {
		t.Fatalf("install %s: got state %s (%s), want done; steps %+v", app, op.State, op.Error, op.Steps)
	}
	a, err := c.App(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// appGetter asks the app through the proxy's HTTPS port at its own name.
// The box's CA is inside the machine: the test does not verify it (the
// proxy's own tests do).
func appGetter(t *testing.T, a api.App, port int) func(path string) (string, error) {
	t.Helper()
	var host string
	for _, u := range a.URLs {
		if p, err := url.Parse(u); err == nil && p.Scheme == "https" && p.Port() == "" {
			host = p.Hostname()
		}
	}
	if host == "" {
		t.Fatalf("app %s has no name URL in %v", a.ID, a.URLs)
	}
	tr := &http.Transport{Proxy: nil,
		TLSClientConfig: &tls.Config{ServerName: host, InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
		}}
	c := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)
	return func(path string) (string, error) {
		resp, err := c.Get("https://" + host + path)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return string(b), fmt.Errorf("%s: %s", resp.Status, b)
		}
		return string(b), nil
	}
}

func eventually(timeout time.Duration, f func() (string, error)) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		s, err := f()
		if err == nil || time.Now().After(deadline) {
			return s, err
		}
		time.Sleep(time.Second)
	}
}

// checkGrown reads the disk after power-off: the data partition reaches
// the disk's end and its file system fills it.
func checkGrown(t *testing.T, disk string) {
	t.Helper()
	out, err := exec.Command("sfdisk", "--json", disk).Output()
	if err != nil {
		t.Fatalf("sfdisk --json: %v", err)
	}
	var table struct {
		PartitionTable struct {
			Partitions []struct{ Start, Size int64 } `json:"partitions"`
		} `json:"partitiontable"`
	}
	if err := json.Unmarshal(out, &table); err != nil {
		t.Fatal(err)
	}
	parts := table.PartitionTable.Partitions
	if len(parts) != 4 {
		t.Fatalf("got %d partitions, want 4", len(parts))
	}
	st, err := os.Stat(disk)
	if err != nil {
		t.Fatal(err)
	}
	data := parts[3]
	end := (data.Start + data.Size) * 512
	if st.Size()-end > 4<<20 {
		t.Errorf("data partition ends at %d, want within 4 MiB of the disk's end %d", end, st.Size())
	}
	fsOut, err := exec.Command("dumpe2fs", "-h", fmt.Sprintf("%s?offset=%d", disk, data.Start*512)).Output()
	if err != nil {
		t.Fatalf("dumpe2fs: %v", err)
	}
	var blocks, bsize int64
	for _, l := range strings.Split(string(fsOut), "\n") {
		k, v, _ := strings.Cut(l, ":")
		switch strings.TrimSpace(k) {
		case "Block count":
			blocks, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		case "Block size":
			bsize, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	if got, want := blocks*bsize, data.Size*512; want-got > 4<<20 {
		t.Errorf("data file system: got %d bytes, want the partition's %d", got, want)
	}
	t.Logf("data partition: %d MiB, file system %d MiB", data.Size*512>>20, blocks*bsize>>20)
}

// dumpJournal copies the journal out of the (stopped) machine's root and
// logs what Hearth's units said.
func dumpJournal(t *testing.T, disk string, rootOffset int64, dir string) {
	jdir := filepath.Join(dir, "journal-dump")
	_ = os.MkdirAll(jdir, 0o755)
	if out, err := exec.Command("debugfs", "-R", "rdump /var/log/journal "+jdir, fmt.Sprintf("%s?offset=%d", disk, rootOffset)).CombinedOutput(); err != nil {
		t.Logf("journal: debugfs: %v: %s", err, out)
		return
	}
	files, _ := filepath.Glob(filepath.Join(jdir, "journal", "*", "*.journal"))
	for _, f := range files {
		out, _ := exec.Command("journalctl", "--file", f, "--no-pager", "-o", "short-monotonic").CombinedOutput()
		var keep []string
		for _, l := range strings.Split(string(out), "\n") {
			for _, w := range []string{"hearth", "containerd", "networkd", "Failed", "FAILED", "error"} {
				if strings.Contains(l, w) {
					keep = append(keep, l)
					break
				}
			}
		}
		t.Logf("journal %s (lines about Hearth and failures):\n%s", filepath.Base(f), tail(strings.Join(keep, "\n"), 12000))
	}
}

// codeRE matches the setup code in getty's issue text and in hearthd's
// log line, should the journal reach the console.
var codeRE = regexp.MustCompile(`(?:Hearth setup code: |setup code: type it in the setup wizard"? code=)([0-9A-Z-]+)`)

// setupCode finds the last setup code the console showed.
func setupCode(serial string) string {
	m := codeRE.FindAllStringSubmatch(serial, -1)
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1][1]
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func randomHex(t *testing.T) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
