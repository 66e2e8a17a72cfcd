package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hearthbox/hearth/internal/testenv"
)

// Acceptance 1 of issue 5: in headless Chromium, a fresh box is claimed
// with the setup code from its code file, gets its owner, name and LAN-only
// access, installs the sample app hello from the store with its progress
// shown, and opens it from the launcher, where it answers. At desktop and
// at phone size; screenshots of every step are kept when it fails.
func TestBrowserFirstBoot(t *testing.T) {
	chromium, certutil := lookBrowser(t)
	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}} {
		t.Run(size.name, func(t *testing.T) {
			b := newBox(t)
			b.start("")
			shots := screenshotDir(t)
			https := proxyHTTPS(t, b)
			home := trustingHome(t, certutil, filepath.Join(b.dir, "certs", "lanca", "root.crt"))
			ctx := browserContext(t, chromium, home, "MAP hello.hearth.local "+https)
			viewport := chromedp.EmulateViewport(size.width, size.height)
			if size.mobile {
				viewport = chromedp.EmulateViewport(size.width, size.height, chromedp.EmulateScale(3), chromedp.EmulateMobile)
			}
			// run does one step (30 s at most) and takes its screenshot.
			run := func(step string, actions ...chromedp.Action) {
				t.Helper()
				sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err := chromedp.Run(sctx, actions...)
				cancel()
				shot(ctx, shots, step)
				if err != nil {
					t.Fatalf("%s: %v\nhearthd:\n%s", step, err, b.log)
				}
			}
			run("00-viewport", viewport)
			navigate(t, ctx, b.ui+"/")
			run("01-welcome", chromedp.WaitVisible(`a[href="/setup/code"]`), chromedp.Click(`a[href="/setup/code"]`))

			run("02-code", chromedp.WaitVisible(`#code`, chromedp.ByID))
			run("02-code-typed", chromedp.SendKeys(`#code`, consoleCode(t, b), chromedp.ByID), chromedp.Click(`form button[type=submit]`))

			const password = "plum orchard lantern 42"
			run("03-owner", chromedp.WaitVisible(`#password2`, chromedp.ByID),
				chromedp.SendKeys(`#name`, "ada", chromedp.ByID),
				chromedp.SendKeys(`#password`, password, chromedp.ByID),
				chromedp.SendKeys(`#password2`, password, chromedp.ByID))
			run("03-owner-sent", chromedp.Click(`form button[type=submit]`))

			run("04-box", chromedp.WaitVisible(`#timezone`, chromedp.ByID),
				chromedp.SetValue(`#boxname`, "hearth", chromedp.ByID),
				chromedp.SetValue(`#timezone`, "Europe/Berlin", chromedp.ByID))
			run("04-box-sent", chromedp.Click(`form button[type=submit]`))

			run("05-access", chromedp.WaitVisible(`#mode-lan`, chromedp.ByID), chromedp.Click(`#mode-lan`, chromedp.ByID))
			run("05-access-sent", chromedp.Click(`form button[type=submit]`))

			run("06-backup", chromedp.WaitVisible(`a[href="/setup/apps"]`), chromedp.Click(`a[href="/setup/apps"]`))
			run("07-apps", chromedp.WaitVisible(`form[action="/setup/apps"]`), chromedp.Click(`form[action="/setup/apps"] button[type=submit]`))
			run("08-done", chromedp.WaitVisible(`form[action="/setup/done"]`), chromedp.Click(`form[action="/setup/done"] button[type=submit]`))

			// The owner is signed in, on an empty home screen.
			run("09-home-empty", chromedp.WaitVisible(`main a[href="/store"]`))
			run("10-store", chromedp.Click(`main a[href="/store"]`), chromedp.WaitVisible(`a[href="/store/samples/hello"]`))
			run("11-store-hello", chromedp.Click(`a[href="/store/samples/hello"]`),
				chromedp.WaitVisible(`form[action="/store/samples/hello/install"]`))
			run("12-install", chromedp.Click(`form[action="/store/samples/hello/install"] button[type=submit]`),
				chromedp.WaitVisible(`#op-steps`, chromedp.ByID))
			var steps int
			run("12-progress", chromedp.Evaluate(`document.querySelectorAll("#op-steps li").length`, &steps))
			if steps == 0 {
				t.Fatal("the operation page shows no steps")
			}
			// When the operation ends, app.js reloads the page, which
			// then offers to open the app.
			waitCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
			err := chromedp.Run(waitCtx, chromedp.WaitVisible(`.actions a[href="/"]`))
			cancel()
			shot(ctx, shots, "13-installed")
			if err != nil {
				t.Fatalf("install did not end: %v\nhearthd:\n%s", err, b.log)
			}
			var heading string
			run("13-installed-heading", chromedp.Text(`#op-heading`, &heading, chromedp.ByID))
			if heading != "Installed hello" {
				t.Fatalf("got operation %q, want Installed hello", heading)
			}

			// The launcher shows hello running; a tap opens it.
			deadline := time.Now().Add(60 * time.Second)
			for {
				var badge string
				navigate(t, ctx, b.ui+"/")
				run("14-home", chromedp.WaitVisible(`a[data-app="hello"]`), chromedp.Text(`.tile .badge`, &badge))
				if badge == "Running" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("got hello %q on the launcher, want Running\nhearthd:\n%s", badge, b.log)
				}
				time.Sleep(500 * time.Millisecond)
			}
			var body string
			run("15-open-hello", chromedp.Click(`a[data-app="hello"]`), chromedp.WaitReady(`body`))
			deadline = time.Now().Add(30 * time.Second)
			for !helloInfo.MatchString(body) {
				if time.Now().After(deadline) {
					var loc string
					_ = chromedp.Run(ctx, chromedp.Location(&loc))
					t.Fatalf("hello at %s answered %q, want its info\nhearthd:\n%s", loc, body, b.log)
				}
				time.Sleep(300 * time.Millisecond)
				run("15-hello", chromedp.Text(`body`, &body))
			}
			var loc string
			run("16-hello-answers", chromedp.Location(&loc))
			if !strings.HasPrefix(loc, "https://hello.hearth.local/") {
				t.Errorf("got hello opened at %q, want https://hello.hearth.local/", loc)
			}
		})
	}
}

// lookBrowser finds Debian's chromium and certutil: missing ones fail the
// test under CI and skip it elsewhere.
func lookBrowser(t *testing.T) (chromium, certutil string) {
	t.Helper()
	testenv.NeedContainerd(t)
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Unavailable(t, "chromium not found: run 'make deps-test' (apt-get install chromium libnss3-tools)")
	}
	if certutil, err = exec.LookPath("certutil"); err != nil {
		testenv.Unavailable(t, "certutil not found: run 'make deps-test' (apt-get install libnss3-tools)")
	}
	return chromium, certutil
}

// screenshotDir is where a test's screenshots go: printed and kept when it
// fails (or when HEARTH_KEEP_SCREENSHOTS is set), removed when it passes.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hearth-browser-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("HEARTH_KEEP_SCREENSHOTS") != "" {
			t.Logf("screenshots of every step: %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	return dir
}

// shot saves a screenshot of the page; a failure to take one only shows as
// a missing file.
func shot(ctx context.Context, dir, step string) {
	var buf []byte
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Run(sctx, chromedp.FullScreenshot(&buf, 100)); err == nil {
		_ = os.WriteFile(filepath.Join(dir, step+".png"), buf, 0o644)
	}
}

// helloInfo is how the sample app's info page starts.
var helloInfo = regexp.MustCompile(`"app":\s*"web"`)

var proxyHTTPSRE = regexp.MustCompile(`proxy_https=(127\.0\.0\.1:\d+)`)

// proxyHTTPS is the box's proxy HTTPS address, from hearthd's ready line
// (logged just after start returns).
func proxyHTTPS(t *testing.T, b *box) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := proxyHTTPSRE.FindStringSubmatch(b.log.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("hearthd did not log its proxy address:\n%s", b.log)
	return ""
}

var consoleCodeRE = regexp.MustCompile(`setup code: ([0-9A-Z]{4}(?:-[0-9A-Z]{2,4})+)`)

// consoleCode reads the setup code from the box's console file, as the
// owner reads it on the screen.
func consoleCode(t *testing.T, b *box) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.dir, "console", "hearth.issue"))
	if err != nil {
		t.Fatalf("the console file: %v", err)
	}
	m := consoleCodeRE.FindStringSubmatch(string(data))
	if m == nil {
		t.Fatalf("no setup code on the console:\n%s", data)
	}
	return m[1]
}

// trustingHome is a home folder whose NSS database (where Chromium on
// Linux keeps the roots its user added) trusts the box's root.
func trustingHome(t *testing.T, certutil, root string) string {
	t.Helper()
	home := t.TempDir()
	db := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(db, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-d", "sql:" + db, "-N", "--empty-password"},
		{"-d", "sql:" + db, "-A", "-t", "C,,", "-n", "hearth box", "-i", root},
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

// browserContext starts headless Chromium with a fresh profile; it is
// closed in t.Cleanup.
func browserContext(t *testing.T, chromium, home, resolverRules string) context.Context {
	t.Helper()
	out := &lockedWriter{}
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
		chromedp.Flag("host-resolver-rules", resolverRules),
		chromedp.CombinedOutput(out),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("chromium output:\n%s", out)
		}
		cancelTimeout()
		cancelCtx() // closes the browser and waits for it
		cancelAlloc()
	})
	// The first Run starts the browser, which lives as long as the
	// context it is run with: this one, not a step's shorter one.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// navigate loads url. Other test packages add and remove network
// interfaces meanwhile, and Chromium aborts a navigation with
// ERR_NETWORK_CHANGED when one comes or goes: that, and only that, is
// tried again.
func navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	var err error
	for range 5 {
		if err = chromedp.Run(ctx, chromedp.Navigate(url)); err == nil || !strings.Contains(err.Error(), "ERR_NETWORK_CHANGED") {
			break
		}
	}
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
}
