package boottest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// wizardClient is a browser without JavaScript: a cookie jar, the CSRF
// token of the last form it was shown, and no automatic redirects, so that
// every step's answer is checked.
type wizardClient struct {
	t    *testing.T
	base string // http://127.0.0.1:<port forwarded to the box's 80>
	c    *http.Client
	csrf string
}

func newWizardClient(t *testing.T, base string) *wizardClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	return &wizardClient{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// do sends one request and checks its status; a page's CSRF token is kept
// for the next form.
func (w *wizardClient) do(method, path string, form url.Values, want int) *http.Response {
	w.t.Helper()
	var body io.Reader
	if form != nil {
		form.Set("csrf", w.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, w.base+path, body)
	if err != nil {
		w.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", w.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		w.t.Fatalf("%s %s: got %s, want %d; page:\n%s", method, path, resp.Status, want, tail(string(page), 3000))
	}
	if m := csrfRE.FindSubmatch(page); m != nil {
		w.csrf = string(m[1])
	}
	return resp
}

// step shows a wizard page and posts its form, which must send the
// browser on to next.
func (w *wizardClient) step(path string, form url.Values, next string) {
	w.t.Helper()
	w.do(http.MethodGet, path, nil, http.StatusOK)
	resp := w.do(http.MethodPost, path, form, http.StatusSeeOther)
	if got := resp.Header.Get("Location"); got != next {
		w.t.Fatalf("POST %s: got redirected to %q, want %q", path, got, next)
	}
}

// claim goes through the whole wizard as an owner would: the setup code,
// the owner's account, the box's name and time zone, LAN access only, no
// apps, finish; then the owner is signed in on the home page.
func claim(t *testing.T, base, code, owner, password string) {
	t.Helper()
	w := newWizardClient(t, base)
	w.step("/setup/code", url.Values{"code": {code}}, "/setup")
	w.step("/setup/owner", url.Values{"name": {owner}, "password": {password}, "password2": {password}}, "/setup/box")
	w.step("/setup/box", url.Values{"name": {"hearth"}, "timezone": {"Europe/Berlin"}}, "/setup/access")
	w.step("/setup/access", url.Values{"mode": {"lan"}}, "/setup/backup")
	w.step("/setup/apps", url.Values{}, "/setup/done")
	w.step("/setup/done", url.Values{}, "/")
	w.do(http.MethodGet, "/", nil, http.StatusOK)
	w.do(http.MethodGet, "/setup/code", nil, http.StatusGone)
}

// waitOK waits until url answers 200 and returns the seconds since qemu
// started.
func waitOK(t *testing.T, m *Machine, url string, timeout time.Duration) float64 {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last, panicked := "no answer", false
	for range tick.C {
		if !panicked && strings.Contains(m.Serial(), "Kernel panic") {
			panicked = true
			t.Logf("the guest kernel panicked %.0f s after qemu started; it reboots (panic=10):\n%s", time.Since(m.Started).Seconds(), tail(m.Serial(), 2500))
		}
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(m.Started).Seconds()
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if exited, why := m.Exited(); exited {
			t.Fatalf("qemu stopped before %s answered 200: %v", url, why)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within %s: %s", url, timeout, last)
		}
	}
	return 0
}

// waitSetupCode waits for the setup code on the serial console.
func waitSetupCode(t *testing.T, m *Machine, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if code := setupCode(m.Serial()); code != "" {
			return code
		}
		if time.Now().After(deadline) {
			t.Fatalf("no setup code on the serial console within %s", timeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// bootAnalysis is what the test image's hearth-boot-analyze.service
// printed on the serial console ("" until the boot is over).
func bootAnalysis(serial string) string {
	const begin, end = "=== hearth-boot-analyze\n", "=== hearth-boot-analyze end"
	_, after, ok := strings.Cut(strings.ReplaceAll(serial, "\r\n", "\n"), begin)
	if !ok {
		return ""
	}
	s, _, ok := strings.Cut(after, end)
	if !ok {
		return ""
	}
	return s
}

// logBootAnalysis logs the boot's analysis, waiting a little for it.
func logBootAnalysis(t *testing.T, m *Machine, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if a := bootAnalysis(m.Serial()); a != "" {
			t.Logf("boot %d, systemd-analyze:\n%s", n, a)
			// hearthd looks for the factory-reset marker there.
			if !strings.Contains(a, "boot partition: vfat") {
				t.Errorf("boot %d: the boot partition is not mounted at /boot/firmware (want \"boot partition: vfat\" above)", n)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Logf("boot %d: no systemd-analyze output on the serial console", n)
			return
		}
		time.Sleep(time.Second)
	}
}

func randomPassword(t *testing.T) string {
	return fmt.Sprintf("boot test %s pass", randomHex(t))
}
