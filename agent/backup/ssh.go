package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ensureSSHKey returns the path of the box's own SSH key for SFTP
// destinations, making an ed25519 key at first use.
func (c *Client) ensureSSHKey() (string, error) {
	dir := filepath.Join(c.cfg.StateDir, "ssh")
	key := filepath.Join(dir, "id_ed25519")
	if _, err := os.Stat(key); err == nil {
		return key, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("ssh key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("ssh key: %w", err)
	}
	// ssh-keygen writes in place: make it in a temporary folder, then move
	// the pair, the public half first.
	tmp, err := os.MkdirTemp(dir, ".keygen-")
	if err != nil {
		return "", fmt.Errorf("ssh key: %w", err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.cfg.SSHKeygen, "-q", "-t", "ed25519", "-N", "", "-C", "hearth-backup@"+c.cfg.Host, "-f", filepath.Join(tmp, "id_ed25519"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("ssh-keygen: %v: %s", err, strings.TrimSpace(string(out)))
	}
	if err := os.Rename(filepath.Join(tmp, "id_ed25519.pub"), key+".pub"); err != nil {
		return "", fmt.Errorf("ssh key: %w", err)
	}
	if err := os.Rename(filepath.Join(tmp, "id_ed25519"), key); err != nil {
		return "", fmt.Errorf("ssh key: %w", err)
	}
	return key, nil
}

// SSHPublicKey returns the box's public SSH key ("ssh-ed25519 AAAA…
// hearth-backup@box"), made at first use: the owner adds it to the SFTP
// server's authorized_keys.
func (c *Client) SSHPublicKey() (string, error) {
	key, err := c.ensureSSHKey()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(key + ".pub")
	if err != nil {
		return "", fmt.Errorf("ssh key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
