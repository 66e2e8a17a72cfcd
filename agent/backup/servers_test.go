package backup

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearthbox/hearth/internal/testenv"
)

// versitygwVersion is the S3 server the tests start (make test installs it
// into bin/tools; HEARTH_VERSITYGW names another binary).
const versitygwVersion = "v1.8.0"

func versitygwPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HEARTH_VERSITYGW"); p != "" {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", "..", "bin", "tools", "versitygw-"+versitygwVersion, "versitygw"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		testenv.Unavailable(t, fmt.Sprintf("versitygw not found at %s: run make test (or go install github.com/versity/versitygw/cmd/versitygw@%s)", p, versitygwVersion))
	}
	return p
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startProcess runs argv until the test ends and waits until port accepts.
func startProcess(t *testing.T, port int, argv ...string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			t.Fatalf("%s exited: %s", argv[0], out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not listen on %d: %s", argv[0], port, out.String())
		}
	}
}

// startS3 starts versitygw in posix mode on a loopback port, serving a
// folder of the test's, and returns a destination on it and that folder.
func startS3(t *testing.T) (Destination, string) {
	t.Helper()
	bin := versitygwPath(t)
	root := t.TempDir()
	port := freePort(t)
	startProcess(t, port, bin, "--access", "hearthtest", "--secret", "hearth-test-secret",
		"--port", fmt.Sprintf("127.0.0.1:%d", port), "posix", root)
	return Destination{Kind: KindS3, Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), Bucket: "box-backups",
		AccessKeyID: "hearthtest", SecretAccessKey: "hearth-test-secret"}, root
}

// startSFTP starts Debian's sshd on a loopback port with a host key and a
// configuration of its own, authorizing the client's key for root, and
// returns a destination on it and the folder the repository goes to.
func startSFTP(t *testing.T, c *Client) (Destination, string) {
	t.Helper()
	testenv.Need(t, "/usr/sbin/sshd", "ssh", "ssh-keygen")
	dir := t.TempDir()
	hostKey := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	pub, err := c.SSHPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(auth, []byte(pub+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	conf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(conf, []byte(strings.Join([]string{
		"ListenAddress 127.0.0.1",
		"HostKey " + hostKey,
		"PidFile none",
		"AuthorizedKeysFile " + auth,
		"PermitRootLogin prohibit-password",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"StrictModes no",
		"Subsystem sftp internal-sftp",
		"",
	}, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	startProcess(t, port, "/usr/sbin/sshd", "-D", "-e", "-f", conf, "-p", fmt.Sprint(port))
	hk, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(hk))
	repo := filepath.Join(dir, "repo")
	return Destination{Kind: KindSFTP, User: "root", Host: "127.0.0.1", Port: port, Path: repo,
		HostKey: fields[0] + " " + fields[1]}, repo
}

func newClient(t *testing.T) *Client {
	t.Helper()
	testenv.Need(t, "restic")
	c, err := New(Config{StateDir: t.TempDir(), Host: "testbox"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// grepTree fails the test when any file under root holds marker.
func grepTree(t *testing.T, root, marker string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if strings.Contains(string(b), marker) {
			t.Errorf("%s holds the plain text %q", p, marker)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no files under %s: the repository is not there", root)
	}
}
