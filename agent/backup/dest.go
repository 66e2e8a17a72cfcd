package backup

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Destination kinds.
const (
	KindLocal = "local"
	KindS3    = "s3"
	KindSFTP  = "sftp"
)

// Destination is where the box's repository lives. Secrets in it (the S3
// secret key) stay on the box: they reach only restic's process.
type Destination struct {
	// Kind is KindLocal, KindS3 or KindSFTP.
	Kind string `json:"kind"`
	// Path is the folder: an absolute local path (a USB disk's mount), the
	// absolute path on the SFTP server, or an optional prefix in the S3
	// bucket.
	Path string `json:"path,omitempty"`
	// Endpoint is the S3 server's URL, "https://s3.example.com" or
	// "http://127.0.0.1:7070".
	Endpoint string `json:"endpoint,omitempty"`
	// Bucket is the S3 bucket (made by restic when missing).
	Bucket string `json:"bucket,omitempty"`
	// AccessKeyID and SecretAccessKey log in to S3.
	AccessKeyID     string `json:"accessKeyId,omitempty"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	// User, Host and Port reach the SFTP server (port default 22).
	User string `json:"user,omitempty"`
	Host string `json:"host,omitempty"`
	Port int    `json:"port,omitempty"`
	// HostKey is the SFTP server's public host key ("ssh-ed25519 AAAA…"),
	// which the box checks strictly: it is written to a known_hosts file of
	// the box's own.
	HostKey string `json:"hostKey,omitempty"`
}

var (
	bucketPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	userPattern    = regexp.MustCompile(`^[a-z_][a-z0-9_.-]{0,31}$`)
	hostPattern    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)
	hostKeyPattern = regexp.MustCompile(`^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521) [A-Za-z0-9+/]+={0,2}$`)
	keyTextPattern = regexp.MustCompile(`^[A-Za-z0-9+/=_.-]{1,256}$`)
)

// Validate says whether d is complete and safe to hand to restic; the error
// names the field.
func (d Destination) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("destination.%s: %s: %w", field, fmt.Sprintf(format, args...), ErrInvalid))
	}
	cleanAbs := func(field, p string) {
		switch {
		case p == "" || !strings.HasPrefix(p, "/"):
			bad(field, "%q must be an absolute path", p)
		case path.Clean(p) != p:
			bad(field, "%q must be a clean path (no .., no trailing /)", p)
		case strings.ContainsAny(p, " \t\n\r'\"\\:"):
			bad(field, "%q must not hold blanks, quotes, colons or backslashes", p)
		}
	}
	switch d.Kind {
	case KindLocal:
		cleanAbs("path", d.Path)
		if d.Endpoint != "" || d.Bucket != "" || d.Host != "" || d.User != "" || d.AccessKeyID != "" || d.SecretAccessKey != "" || d.HostKey != "" || d.Port != 0 {
			bad("kind", "a local destination takes only a path")
		}
	case KindS3:
		u, err := url.Parse(d.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			bad("endpoint", "%q must be an http or https URL with no path", d.Endpoint)
		}
		if !bucketPattern.MatchString(d.Bucket) {
			bad("bucket", "%q is not a bucket name", d.Bucket)
		}
		if d.Path != "" {
			p := strings.Trim(d.Path, "/")
			if p == "" || path.Clean(p) != p || strings.HasPrefix(p, "..") || strings.ContainsAny(p, " \t\n\r'\"\\:") {
				bad("path", "%q must be a clean prefix", d.Path)
			}
		}
		if !keyTextPattern.MatchString(d.AccessKeyID) {
			bad("accessKeyId", "must be given (letters, digits, +/=_.-)")
		}
		if d.SecretAccessKey == "" || len(d.SecretAccessKey) > 256 || strings.ContainsAny(d.SecretAccessKey, "\n\r\x00") {
			bad("secretAccessKey", "must be given, one line")
		}
		if d.Host != "" || d.User != "" || d.HostKey != "" || d.Port != 0 {
			bad("kind", "an s3 destination takes endpoint, bucket, path and keys")
		}
	case KindSFTP:
		cleanAbs("path", d.Path)
		if !userPattern.MatchString(d.User) {
			bad("user", "%q is not a user name", d.User)
		}
		if !hostPattern.MatchString(d.Host) && net.ParseIP(d.Host) == nil {
			bad("host", "%q is not a host name or address", d.Host)
		}
		if d.Port < 0 || d.Port > 65535 {
			bad("port", "%d is not a port", d.Port)
		}
		if !hostKeyPattern.MatchString(strings.TrimSpace(d.HostKey)) {
			bad("hostKey", "must be the server's public host key, \"ssh-ed25519 AAAA…\" (ssh-keyscan shows it)")
		}
		if d.Endpoint != "" || d.Bucket != "" || d.AccessKeyID != "" || d.SecretAccessKey != "" {
			bad("kind", "an sftp destination takes user, host, port, path and hostKey")
		}
	default:
		bad("kind", "%q must be local, s3 or sftp", d.Kind)
	}
	return errors.Join(errs...)
}

// String shows the destination without its secrets.
func (d Destination) String() string {
	switch d.Kind {
	case KindLocal:
		return d.Path
	case KindS3:
		s := "s3:" + strings.TrimSuffix(d.Endpoint, "/") + "/" + d.Bucket
		if p := strings.Trim(d.Path, "/"); p != "" {
			s += "/" + p
		}
		return s
	case KindSFTP:
		return "sftp:" + d.User + "@" + d.Host + ":" + d.Path
	}
	return ""
}

// repo returns restic's repository arguments and the environment only its
// process gets.
func (c *Client) repo(d Destination) ([]string, []string, error) {
	if err := d.Validate(); err != nil {
		return nil, nil, err
	}
	args := []string{"--repo", d.String()}
	var env []string
	switch d.Kind {
	case KindS3:
		env = append(env, "AWS_ACCESS_KEY_ID="+d.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+d.SecretAccessKey)
	case KindSFTP:
		cmd, err := c.sftpCommand(d)
		if err != nil {
			return nil, nil, err
		}
		args = append(args, "--option", "sftp.command="+cmd)
	}
	return args, env, nil
}

// sftpCommand writes the server's host key to the box's own known_hosts
// file and returns the ssh command restic runs: the box's key, that file,
// strict host key checking, nothing from ~/.ssh.
func (c *Client) sftpCommand(d Destination) (string, error) {
	key, err := c.ensureSSHKey()
	if err != nil {
		return "", err
	}
	port := d.Port
	if port == 0 {
		port = 22
	}
	hostName := d.Host
	if port != 22 {
		hostName = "[" + d.Host + "]:" + strconv.Itoa(port)
	}
	dir := filepath.Join(c.cfg.StateDir, "ssh")
	kh := filepath.Join(dir, "known_hosts-"+strings.NewReplacer(":", "_", "[", "", "]", "").Replace(hostName))
	line := hostName + " " + strings.TrimSpace(d.HostKey) + "\n"
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		return "", fmt.Errorf("known_hosts: %w", err)
	}
	return strings.Join([]string{c.cfg.SSH, "-F", "/dev/null", "-i", key, "-p", strconv.Itoa(port),
		"-o", "UserKnownHostsFile=" + kh, "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=20",
		d.User + "@" + d.Host, "-s", "sftp"}, " "), nil
}
