package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Errors the package wraps; check them with errors.Is.
var (
	// ErrInvalid marks a bad destination, request or configuration; the
	// message names the field.
	ErrInvalid = errors.New("invalid backup request")
	// ErrRestic marks a restic command that failed; the message carries the
	// end of what it printed.
	ErrRestic = errors.New("restic failed")
	// ErrNoRepository means that there is no repository at the
	// destination yet (Init makes one).
	ErrNoRepository = errors.New("no repository at the destination")
	// ErrNoKey means the box has no repository key yet (no backup was ever
	// configured, or it was lost): restoring needs the recovery key.
	ErrNoKey = errors.New("no backup key")
)

// Config wires a Client. StateDir is required.
type Config struct {
	// StateDir holds the key file, restic's cache and the SSH files
	// (created 0700).
	StateDir string
	// Restic, SSH and SSHKeygen are the helper binaries (default "restic",
	// "ssh" and "ssh-keygen", looked up in PATH).
	Restic    string
	SSH       string
	SSHKeygen string
	// Host is the host name recorded in snapshots (default "hearth").
	Host   string
	Logger *slog.Logger
}

// Client runs restic for one box. It is safe for concurrent use; restic's
// own locks keep two processes on one repository apart.
type Client struct {
	cfg Config
	log *slog.Logger

	// mu guards repos, one lock per repository: the commands that write
	// (init, backup, forget) run one at a time, since restic 0.14 fails a
	// backup at once while a prune holds the repository's exclusive lock.
	mu    sync.Mutex
	repos map[string]*sync.Mutex
}

// exclusive takes dest's write lock and returns its release.
func (c *Client) exclusive(dest Destination) func() {
	c.mu.Lock()
	if c.repos == nil {
		c.repos = map[string]*sync.Mutex{}
	}
	m, ok := c.repos[dest.String()]
	if !ok {
		m = &sync.Mutex{}
		c.repos[dest.String()] = m
	}
	c.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// New checks the configuration and makes the state folder.
func New(cfg Config) (*Client, error) {
	if cfg.StateDir == "" || !filepath.IsAbs(cfg.StateDir) {
		return nil, fmt.Errorf("backup config: stateDir %q must be an absolute path: %w", cfg.StateDir, ErrInvalid)
	}
	// restic reads sftp.command as words split at blanks and quotes.
	if strings.ContainsAny(cfg.StateDir, " \t\n'\"\\") {
		return nil, fmt.Errorf("backup config: stateDir %q must not hold blanks, quotes or backslashes: %w", cfg.StateDir, ErrInvalid)
	}
	if cfg.Restic == "" {
		cfg.Restic = "restic"
	}
	if cfg.SSH == "" {
		cfg.SSH = "ssh"
	}
	if cfg.SSHKeygen == "" {
		cfg.SSHKeygen = "ssh-keygen"
	}
	if cfg.Host == "" {
		cfg.Host = "hearth"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("backup state folder: %w", err)
	}
	if err := os.Chmod(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("backup state folder: %w", err)
	}
	return &Client{cfg: cfg, log: cfg.Logger.With("component", "backup")}, nil
}

// StateDir is the folder the client keeps its files in.
func (c *Client) StateDir() string { return c.cfg.StateDir }

// invocation is one restic run.
type invocation struct {
	dest Destination
	args []string
	dir  string
	// stdout receives restic's standard output as it comes; nil collects
	// it in the returned buffer.
	stdout  io.Writer // keyFile overrides the box's key file (TryKey).
	keyFile string
}

// run runs restic against dest with args, the password from the key file,
// and an environment of its own: the destination's credentials reach only
// this process. It returns what restic wrote on its standard output.
func (c *Client) run(ctx context.Context, inv invocation) ([]byte, error) {
	key := inv.keyFile
	if key == "" {
		var err error
		if key, err = c.keyPath(); err != nil {
			return nil, err
		}
	}
	repoArgs, env, err := c.repo(inv.dest)
	if err != nil {
		return nil, err
	}
	argv := append([]string{"--cache-dir", filepath.Join(c.cfg.StateDir, "cache"),
		"--password-file", key}, repoArgs...)
	argv = append(argv, inv.args...)
	cmd := exec.CommandContext(ctx, c.cfg.Restic, argv...)
	cmd.Dir = inv.dir
	cmd.Env = append([]string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + c.cfg.StateDir,
		"RESTIC_PROGRESS_FPS=2",
	}, env...)
	var out bytes.Buffer
	var errOut tailBuffer
	cmd.Stdout = &out
	if inv.stdout != nil {
		cmd.Stdout = inv.stdout
	}
	cmd.Stderr = &errOut
	c.log.Debug("restic", "args", inv.args)
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := strings.TrimSpace(errOut.String())
		if strings.Contains(msg, "Is there a repository at the following location?") {
			return nil, fmt.Errorf("restic %s: %s: %w", inv.args[0], msg, ErrNoRepository)
		}
		return nil, fmt.Errorf("restic %s: %v: %s: %w", inv.args[0], err, msg, ErrRestic)
	}
	return out.Bytes(), nil
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
