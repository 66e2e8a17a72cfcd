package certs

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hearthbox/hearth/internal/testenv"
)

// lookChromium finds Debian's chromium (or another Chrome) and certutil;
// missing ones fail the test under CI and skip it elsewhere.
func lookChromium(t *testing.T) (chromium, certutil string) {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		testenv.Unavailable(t, "chromium not found: run 'make deps-test' (apt-get install chromium libnss3-tools)")
	}
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		testenv.Unavailable(t, "certutil not found: run 'make deps-test' (apt-get install libnss3-tools)")
	}
	return chromium, certutil
}

// trustingHome makes a home directory whose NSS database (where Chromium
// on Linux keeps the roots its user added) trusts rootPEM for websites.
func trustingHome(t *testing.T, certutil, name string, rootPEM []byte) string {
	t.Helper()
	home := t.TempDir()
	db := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(db, 0o700); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(home, "root.crt")
	if err := os.WriteFile(root, rootPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-d", "sql:" + db, "-N", "--empty-password"},
		{"-d", "sql:" + db, "-A", "-t", "C,,", "-n", name, "-i", root},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, certutil, args...).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("certutil %v: %v: %s", args, err, out)
		}
	}
	return home
}

// Headless Chromium that trusts the local CA's root (through its NSS
// database, as an owner would add it) loads an app over HTTPS without a
// certificate error, and refuses the same name served with a certificate
// from another local CA.
func TestChromiumTrustsLocalCA(t *testing.T) {
	chromium, certutil := lookChromium(t)
	const name = "app.hearth.local"

	m := newManager(t, Config{})
	stranger := newManager(t, Config{})
	for _, mm := range []*Manager{m, stranger} {
		if err := mm.Manage(context.Background(), []string{name}); err != nil {
			t.Fatal(err)
		}
		waitIssued(t, mm, name, 10*time.Second)
	}
	trusted, untrusted := serveTLS(t, m), serveTLS(t, stranger)
	home := trustingHome(t, certutil, m.LocalCA().Name(), m.LocalCA().RootPEM())

	chromeLog := &logBuffer{}
	dumpOnFailure(t, "chromium output", chromeLog)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Env("HOME="+home),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("host-resolver-rules", "MAP "+name+" 127.0.0.1"),
		chromedp.CombinedOutput(chromeLog),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx() // closes the browser and waits for it
		cancelAlloc()
	})

	url := func(addr string) string {
		_, port, _ := strings.Cut(addr, ":")
		return fmt.Sprintf("https://%s:%s/", name, port)
	}
	// Other test packages add and remove network interfaces meanwhile, and
	// Chromium aborts a navigation with ERR_NETWORK_CHANGED when one
	// comes or goes: that, and only that, is tried again.
	navigate := func(actions ...chromedp.Action) error {
		var err error
		for range 5 {
			if err = chromedp.Run(ctx, actions...); err == nil || !strings.Contains(err.Error(), "ERR_NETWORK_CHANGED") {
				return err
			}
		}
		return err
	}
	var text string
	if err := navigate(chromedp.Navigate(url(trusted)), chromedp.Text("body", &text, chromedp.ByQuery)); err != nil {
		t.Fatalf("navigate to %s: %v", url(trusted), err)
	}
	_, port, _ := strings.Cut(trusted, ":")
	if want := fmt.Sprintf("hello %s:%s over HTTP/2.0", name, port); text != want {
		t.Errorf("got page %q, want %q", text, want)
	}

	err := navigate(chromedp.Navigate(url(untrusted)))
	if err == nil || !strings.Contains(err.Error(), "ERR_CERT_AUTHORITY_INVALID") {
		t.Errorf("navigate to %s (another CA): got %v, want net::ERR_CERT_AUTHORITY_INVALID", url(untrusted), err)
	}
}
