package firstboot

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
)

// CodeFileName is the file under the state folder that holds the code.
const CodeFileName = "setup-code"

// CodesConfig configures Codes.
type CodesConfig struct {
	// StateDir holds the root-only code file (required).
	StateDir string
	// ConsoleFile is the getty issue file that shows the code on the
	// console, /etc/issue.d/hearth.issue on the image; "" = none (dev).
	ConsoleFile string
	// Agetty, when set, is run with --reload after the console file
	// changes, so that the login prompts on screen show it at once.
	Agetty string
	// URL is where the wizard answers, shown next to the code; default
	// "http://<hostname>.local/" written with agetty's \n escape.
	URL    string
	Logger *slog.Logger
}

// Codes makes, shows and voids the setup code: the pieces the agent's
// SetupCode interface asks for.
type Codes struct {
	cfg CodesConfig
	log *slog.Logger
}

// NewCodes returns Codes.
func NewCodes(cfg CodesConfig) (*Codes, error) {
	if cfg.StateDir == "" {
		return nil, errors.New("firstboot: StateDir is required")
	}
	if cfg.URL == "" {
		cfg.URL = `http://\n.local/`
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Codes{cfg: cfg, log: cfg.Logger.With("component", "firstboot")}, nil
}

// New returns a fresh code.
func (c *Codes) New() (string, error) { return NewCode() }

// Match compares a typed code with the real one (see CodesMatch).
func (c *Codes) Match(real, typed string) bool { return CodesMatch(real, typed) }

// CodeFile is the path of the root-only code file.
func (c *Codes) CodeFile() string { return filepath.Join(c.cfg.StateDir, CodeFileName) }

// Publish shows code where the owner can read it: the root-only code file,
// the console's issue file (HDMI and serial), and the journal (a log line
// at Info). Publishing the same code again rewrites the same files.
func (c *Codes) Publish(ctx context.Context, code string) error {
	if err := writeFile(c.CodeFile(), []byte(code+"\n")); err != nil {
		return fmt.Errorf("publish setup code: %w", err)
	}
	if c.cfg.ConsoleFile != "" {
		text := fmt.Sprintf("\nHearth setup code: %s\nOpen %s in a browser on the same network and type it in.\n\n", code, c.cfg.URL)
		if err := os.MkdirAll(filepath.Dir(c.cfg.ConsoleFile), 0o755); err != nil {
			return fmt.Errorf("publish setup code: %w", err)
		}
		if err := writeFile(c.cfg.ConsoleFile, []byte(text)); err != nil {
			return fmt.Errorf("publish setup code: %w", err)
		}
		c.reloadGetty(ctx)
	}
	c.log.Info("setup code: type it in the setup wizard", "code", code, "file", c.CodeFile(), "console", c.cfg.ConsoleFile)
	return nil
}

// Void removes the code from the files; the journal keeps its old line,
// which names a code that no longer opens anything.
func (c *Codes) Void(ctx context.Context) error {
	var errs []error
	for _, p := range []string{c.CodeFile(), c.cfg.ConsoleFile} {
		if p == "" {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("void setup code: %w", err)
	}
	if c.cfg.ConsoleFile != "" {
		c.reloadGetty(ctx)
	}
	c.log.Info("setup code void")
	return nil
}

// reloadGetty asks the running agetty prompts to show the issue file again.
func (c *Codes) reloadGetty(ctx context.Context) {
	if c.cfg.Agetty == "" {
		return
	}
	if out, err := exec.CommandContext(ctx, c.cfg.Agetty, "--reload").CombinedOutput(); err != nil {
		c.log.Warn("agetty --reload", "err", err, "output", string(out))
	}
}

// writeFile replaces path with data atomically, mode 0600: the code opens
// the box, so only root reads it (getty runs as root).
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
