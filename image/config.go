package osimage

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrInvalid is wrapped by the errors Build returns for a bad Config.
var ErrInvalid = errors.New("invalid image config")

// Arch is an image's target: a board family and its CPU.
type Arch string

// The architectures Hearth builds images for.
const (
	// AMD64 is a UEFI mini-PC: GPT, systemd-boot, console on ttyS0.
	AMD64 Arch = "amd64"
	// ARM64 is a Raspberry Pi 4 or 5: MBR, the Pi firmware, console on
	// ttyAMA0.
	ARM64 Arch = "arm64"
)

// Tools are the helper binaries a build runs; empty fields are looked up
// on PATH by their usual names.
type Tools struct {
	Mmdebstrap, Mkfsext4, Mkfsvfat, Mcopy, Mmd, Sfdisk, Zstd, Go, Systemctl string
}

func (t Tools) withDefaults() Tools {
	def := func(v *string, name string) {
		if *v == "" {
			*v = name
		}
	}
	def(&t.Mmdebstrap, "mmdebstrap")
	def(&t.Mkfsext4, "mkfs.ext4")
	def(&t.Mkfsvfat, "mkfs.vfat")
	def(&t.Mcopy, "mcopy")
	def(&t.Mmd, "mmd")
	def(&t.Sfdisk, "sfdisk")
	def(&t.Zstd, "zstd")
	def(&t.Go, "go")
	def(&t.Systemctl, "systemctl")
	return t
}

// Samples makes the test variant: the sample catalog trusted, its images
// served from the image itself by a registry on loopback, and hearthd's
// API reachable on a TCP port so that a test outside the machine can drive
// it. Never set for an owner's image.
type Samples struct {
	// Catalog is the signed sample catalog (an envelope).
	Catalog []byte
	// Key is the catalog's base64 ed25519 public key.
	Key string
	// Layout is an OCI image layout whose manifests carry the annotation
	// org.opencontainers.image.ref.name = "samples/<app>:<version>".
	Layout string
	// Registry is the loopback host:port the catalog's references name.
	Registry netip.AddrPort
	// APIPort is the guest TCP port that forwards to hearthd's socket.
	APIPort uint16
}

// Config says what to build.
type Config struct {
	Arch Arch
	// Suite and Mirror of Debian; default trixie and deb.debian.org.
	Suite, Mirror string
	// ModuleDir is the Hearth source tree (hearthd is built from it).
	ModuleDir string
	// CacheDir keeps downloaded .debs and the unpacked base roots.
	CacheDir string
	// OutDir receives <name>.img and <name>.img.zst.
	OutDir string
	// Name of the image files; default hearth-<arch> (hearth-<arch>-test
	// with Samples).
	Name string
	// SystemSize is the size of each system slot; default 1 GiB.
	SystemSize int64
	// DataSize is the data partition's size in the image (it grows to the
	// disk on first boot); default 128 MiB.
	DataSize int64
	// SSHKeys, when set, installs openssh-server with only these
	// authorized keys for root (key login only). Empty: no SSH at all.
	SSHKeys string
	// Compress writes <name>.img.zst too.
	Compress bool
	// Samples makes the test variant.
	Samples *Samples
	Tools   Tools
	Logger  *slog.Logger
}

var suiteRE = regexp.MustCompile(`^[a-z]{2,20}$`)

func (c Config) withDefaults() Config {
	if c.Suite == "" {
		c.Suite = "trixie"
	}
	if c.Mirror == "" {
		c.Mirror = "http://deb.debian.org/debian"
	}
	if c.SystemSize == 0 {
		c.SystemSize = 1 << 30
	}
	if c.DataSize == 0 {
		c.DataSize = 128 << 20
	}
	if c.Name == "" {
		c.Name = "hearth-" + string(c.Arch)
		if c.Samples != nil {
			c.Name += "-test"
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Tools = c.Tools.withDefaults()
	return c
}

func (c Config) validate() error {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, a...))
	}
	switch c.Arch {
	case AMD64, ARM64:
	default:
		return bad("Arch", "%q is not amd64 or arm64", c.Arch)
	}
	if !suiteRE.MatchString(c.Suite) {
		return bad("Suite", "%q is not a Debian suite name", c.Suite)
	}
	for field, dir := range map[string]string{"ModuleDir": c.ModuleDir, "CacheDir": c.CacheDir, "OutDir": c.OutDir} {
		if dir == "" || !filepath.IsAbs(dir) {
			return bad(field, "%q must be an absolute path", dir)
		}
		// mmdebstrap's hooks split their arguments on white space.
		if strings.ContainsAny(dir, " \t\n'\"\\") {
			return bad(field, "%q: no spaces or quotes", dir)
		}
	}
	if !regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,63}$`).MatchString(c.Name) {
		return bad("Name", "%q: use a-z 0-9 . -", c.Name)
	}
	const mib = 1 << 20
	if c.SystemSize < 512*mib || c.SystemSize%mib != 0 {
		return bad("SystemSize", "%d must be a whole number of MiB, at least 512 MiB", c.SystemSize)
	}
	if c.DataSize < 64*mib || c.DataSize%mib != 0 {
		return bad("DataSize", "%d must be a whole number of MiB, at least 64 MiB", c.DataSize)
	}
	if s := c.Samples; s != nil {
		if len(s.Catalog) == 0 || s.Key == "" || s.Layout == "" {
			return bad("Samples", "Catalog, Key and Layout are required")
		}
		if !s.Registry.Addr().IsLoopback() || s.Registry.Port() == 0 {
			return bad("Samples.Registry", "%s must be a loopback address with a port", s.Registry)
		}
		if s.APIPort == 0 {
			return bad("Samples.APIPort", "must be set")
		}
	}
	return nil
}
