package backup

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// keyFile is the repository password's file under StateDir.
const keyFile = "repository.key"

// keyEncoding writes keys as groups a person can copy: base32 without
// padding, lower case.
var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// EnsureKey returns the box's repository key, making a random one (mode
// 0600) at first use; created says that it was made by this call, the only
// time the owner should be shown it as the recovery key.
func (c *Client) EnsureKey() (key string, created bool, err error) {
	path := filepath.Join(c.cfg.StateDir, keyFile)
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("read backup key: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", false, fmt.Errorf("make backup key: %w", err)
	}
	key = FormatKey(strings.ToLower(keyEncoding.EncodeToString(raw)))
	if err := c.writeKey(key, false); errors.Is(err, fs.ErrExist) {
		return c.EnsureKey() // another caller made it first
	} else if err != nil {
		return "", false, err
	}
	return key, true, nil
}

// SetKey writes the recovery key the owner kept (a box restored from an
// existing repository). It refuses to replace a different key unless
// replace is set.
func (c *Client) SetKey(key string, replace bool) error {
	key = strings.TrimSpace(key)
	if len(key) < 16 || strings.ContainsAny(key, "\n\r") {
		return fmt.Errorf("recovery key: must be the key shown when backups were set up: %w", ErrInvalid)
	}
	path := filepath.Join(c.cfg.StateDir, keyFile)
	if b, err := os.ReadFile(path); err == nil {
		if strings.TrimSpace(string(b)) == key {
			return nil
		}
		if !replace {
			return fmt.Errorf("recovery key: this box has another key already: %w", ErrInvalid)
		}
	}
	return c.writeKey(key, replace)
}

// HasKey says whether the box has a repository key.
func (c *Client) HasKey() bool {
	_, err := os.Stat(filepath.Join(c.cfg.StateDir, keyFile))
	return err == nil
}

// writeKey writes the key file atomically: a temporary file, synced, then
// renamed (or linked, when it must not replace one).
func (c *Client) writeKey(key string, replace bool) error {
	path := filepath.Join(c.cfg.StateDir, keyFile)
	f, err := os.CreateTemp(c.cfg.StateDir, ".key-*")
	if err != nil {
		return fmt.Errorf("write backup key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.WriteString(key + "\n")
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if replace {
			err = os.Rename(tmp, path)
		} else {
			err = os.Link(tmp, path) // fails if another caller made one first
		}
	}
	if err != nil {
		return fmt.Errorf("write backup key: %w", err)
	}
	return nil
}

// keyPath is the key file's path; it fails with ErrNoKey when there is none.
func (c *Client) keyPath() (string, error) {
	path := filepath.Join(c.cfg.StateDir, keyFile)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s: %w", path, ErrNoKey)
	}
	return path, nil
}

// FormatKey groups a key by eight characters, joined with dashes.
func FormatKey(k string) string {
	var b strings.Builder
	for i, r := range k {
		if i > 0 && i%8 == 0 {
			b.WriteByte('-')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TryKey says whether key opens the repository at dest, without keeping
// it: a recovery key is checked before it replaces anything.
func (c *Client) TryKey(ctx context.Context, dest Destination, key string) error {
	key = strings.TrimSpace(key)
	if len(key) < 16 || strings.ContainsAny(key, "\n\r") {
		return fmt.Errorf("recovery key: must be the key shown when backups were set up: %w", ErrInvalid)
	}
	f, err := os.CreateTemp(c.cfg.StateDir, ".try-key-*")
	if err != nil {
		return fmt.Errorf("try the recovery key: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(key + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("try the recovery key: %w", err)
	}
	_, err = c.run(ctx, invocation{dest: dest, args: []string{"cat", "config"}, keyFile: f.Name()})
	return err
}
