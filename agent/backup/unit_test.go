package backup

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDestinationValidate(t *testing.T) {
	hk := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0x"
	for _, tc := range []struct {
		name  string
		d     Destination
		field string // "" = valid
	}{
		{"local", Destination{Kind: KindLocal, Path: "/media/usb/hearth"}, ""},
		{"local relative", Destination{Kind: KindLocal, Path: "usb"}, "destination.path"},
		{"local dotdot", Destination{Kind: KindLocal, Path: "/media/../etc"}, "destination.path"},
		{"local with a blank", Destination{Kind: KindLocal, Path: "/media/my disk"}, "destination.path"},
		{"local with a bucket", Destination{Kind: KindLocal, Path: "/x", Bucket: "b"}, "destination.kind"},
		{"s3", Destination{Kind: KindS3, Endpoint: "https://s3.example.com", Bucket: "box", AccessKeyID: "AK", SecretAccessKey: "s"}, ""},
		{"s3 prefix", Destination{Kind: KindS3, Endpoint: "http://127.0.0.1:9000", Bucket: "box", Path: "home/one", AccessKeyID: "AK", SecretAccessKey: "s"}, ""},
		{"s3 ftp endpoint", Destination{Kind: KindS3, Endpoint: "ftp://x", Bucket: "box", AccessKeyID: "AK", SecretAccessKey: "s"}, "destination.endpoint"},
		{"s3 endpoint path", Destination{Kind: KindS3, Endpoint: "https://x/y", Bucket: "box", AccessKeyID: "AK", SecretAccessKey: "s"}, "destination.endpoint"},
		{"s3 bad bucket", Destination{Kind: KindS3, Endpoint: "https://x", Bucket: "Box_1", AccessKeyID: "AK", SecretAccessKey: "s"}, "destination.bucket"},
		{"s3 no secret", Destination{Kind: KindS3, Endpoint: "https://x", Bucket: "box", AccessKeyID: "AK"}, "destination.secretAccessKey"},
		{"s3 prefix escapes", Destination{Kind: KindS3, Endpoint: "https://x", Bucket: "box", Path: "../x", AccessKeyID: "AK", SecretAccessKey: "s"}, "destination.path"},
		{"sftp", Destination{Kind: KindSFTP, User: "backup", Host: "nas.lan", Port: 2222, Path: "/srv/hearth", HostKey: hk}, ""},
		{"sftp option in host", Destination{Kind: KindSFTP, User: "backup", Host: "-oProxyCommand=x", Path: "/srv", HostKey: hk}, "destination.host"},
		{"sftp bad user", Destination{Kind: KindSFTP, User: "Back up", Host: "nas", Path: "/srv", HostKey: hk}, "destination.user"},
		{"sftp no host key", Destination{Kind: KindSFTP, User: "b", Host: "nas", Path: "/srv"}, "destination.hostKey"},
		{"sftp bad port", Destination{Kind: KindSFTP, User: "b", Host: "nas", Port: 70000, Path: "/srv", HostKey: hk}, "destination.port"},
		{"unknown kind", Destination{Kind: "ftp"}, "destination.kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.Validate()
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("got %v, want valid", err)
			case tc.field != "" && (err == nil || !strings.Contains(err.Error(), tc.field+":") || !errors.Is(err, ErrInvalid)):
				t.Errorf("got %v, want ErrInvalid naming %s", err, tc.field)
			}
		})
	}
}

func TestKeyIsMadeOnceAndPrivate(t *testing.T) {
	c, err := New(Config{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if c.HasKey() {
		t.Fatal("a new box has a key")
	}
	k1, created, err := c.EnsureKey()
	if err != nil || !created || len(k1) < 50 {
		t.Fatalf("first EnsureKey: got %q, %v, %v; want a new key", k1, created, err)
	}
	fi, err := os.Stat(filepath.Join(c.StateDir(), keyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	k2, created, err := c.EnsureKey()
	if err != nil || created || k2 != k1 {
		t.Errorf("second EnsureKey: got %q, %v, %v; want the same key, not created", k2, created, err)
	}
	if err := c.SetKey("another-key-entirely-0000", false); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetKey over another key: got %v, want ErrInvalid", err)
	}
	if err := c.SetKey(k1, false); err != nil {
		t.Errorf("SetKey with the same key: %v", err)
	}
	if err := c.SetKey("short", true); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetKey of a short key: got %v, want ErrInvalid", err)
	}
}

func TestReadMeta(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"format 1", `{"format":1,"app":"notes","version":"1.0.0","manifest":{"id":"notes"},"time":"2026-01-01T00:00:00Z"}`, true},
		{"newer format", `{"format":2,"app":"notes","version":"1.0.0","manifest":{}}`, false},
		{"bad app", `{"format":1,"app":"../x","version":"1.0.0","manifest":{}}`, false},
		{"no manifest", `{"format":1,"app":"notes","version":"1.0.0"}`, false},
		{"not json", `{`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadMeta([]byte(tc.in))
			if got := err == nil; got != tc.ok {
				t.Errorf("got error %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"relative", Config{StateDir: "state"}},
		{"blank", Config{StateDir: "/tmp/a b"}},
		{"empty", Config{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
}

// TestNoRepositoryIsNamed backs up to a folder with no repository yet.
func TestNoRepositoryIsNamed(t *testing.T) {
	c := newClient(t)
	if _, _, err := c.EnsureKey(); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dest := Destination{Kind: KindLocal, Path: filepath.Join(t.TempDir(), "none")}
	_, err := c.Backup(t.Context(), dest, Request{App: "notes", DataRoot: root, Meta: Meta{Version: "1", Manifest: []byte(`{}`)}})
	if !errors.Is(err, ErrNoRepository) {
		t.Errorf("got %v, want ErrNoRepository", err)
	}
}
