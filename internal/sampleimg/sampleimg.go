// Package sampleimg builds Hearth's sample apps (internal/sampleapps/web and
// store) into small, reproducible multi-platform OCI images and pushes them
// to a registry. Tests use it to run real containers from a real registry;
// the offline sample catalog uses the same images. It needs the go command
// and the module's source, so only tests and build tooling may import it,
// never hearthd.
package sampleimg

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrInvalidSpec is wrapped by the errors Build returns for a bad Spec.
var ErrInvalidSpec = errors.New("invalid sample image spec")

// Spec names one sample image.
type Spec struct {
	// App is "web" or "store".
	App string
	// Version is linked into the binary (main.version) and labels the image:
	// 1 to 64 of A-Z a-z 0-9 . _ + -, starting with a letter or digit.
	Version string
	// Broken builds an app whose /healthz always fails (main.broken=true),
	// for "an update that fails its health check".
	Broken bool
	// Platforms are "os/arch[/variant]" (linux only); default linux/amd64
	// and linux/arm64.
	Platforms []string
}

// Ref returns the reference the image is conventionally pushed to on the
// registry at host ("127.0.0.1:5000"): host/samples/APP:VERSION.
func (s Spec) Ref(host string) string {
	return host + "/samples/" + s.App + ":" + s.Version
}

// Standard returns the sample images the tests and the offline catalog use:
// web 1.0, web 2.0 (built broken: fails its health check) and store 1.0.
func Standard() []Spec {
	return []Spec{
		{App: "web", Version: "1.0"},
		{App: "web", Version: "2.0", Broken: true},
		{App: "store", Version: "1.0"},
	}
}

// appPort is the port each app listens on by default (its PORT variable).
func appPort(app string) (string, bool) {
	switch app {
	case "web":
		return "8080", true
	case "store":
		return "8081", true
	}
	return "", false
}

// defaultPlatforms are built when Spec.Platforms is empty.
func defaultPlatforms() []string { return []string{"linux/amd64", "linux/arm64"} }

// platform is one parsed build target.
type platform struct {
	OS, Arch, Variant string
	// env are the extra GO* variables that pin the target, e.g. GOARM=7.
	env []string
}

func (p platform) String() string {
	if p.Variant == "" {
		return p.OS + "/" + p.Arch
	}
	return p.OS + "/" + p.Arch + "/" + p.Variant
}

// parsePlatform parses "linux/arch[/variant]". arm64's variant is always v8.
func parsePlatform(s string) (platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] != "linux" {
		return platform{}, fmt.Errorf("spec field Platforms: %q is not linux/ARCH[/VARIANT]: %w", s, ErrInvalidSpec)
	}
	p := platform{OS: parts[0], Arch: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	switch {
	case p.Arch == "amd64" && p.Variant == "":
		p.env = []string{"GOAMD64=v1"}
	case p.Arch == "arm64" && (p.Variant == "" || p.Variant == "v8"):
		p.Variant = "v8"
		p.env = []string{"GOARM64=v8.0"}
	case p.Arch == "arm" && (p.Variant == "v6" || p.Variant == "v7"):
		p.env = []string{"GOARM=" + strings.TrimPrefix(p.Variant, "v")}
	case (p.Arch == "riscv64" || p.Arch == "ppc64le" || p.Arch == "s390x" || p.Arch == "386") && p.Variant == "":
	default:
		return platform{}, fmt.Errorf("spec field Platforms: %q is not supported (amd64, arm64, arm/v6, arm/v7, riscv64, ppc64le, s390x, 386): %w", s, ErrInvalidSpec)
	}
	return p, nil
}

// validate checks s and returns its parsed platforms.
func (s Spec) validate() ([]platform, error) {
	if _, ok := appPort(s.App); !ok {
		return nil, fmt.Errorf("spec field App: %q is not web or store: %w", s.App, ErrInvalidSpec)
	}
	if !validVersion(s.Version) {
		return nil, fmt.Errorf("spec field Version: %q is not 1 to 64 of A-Z a-z 0-9 . _ + - starting with a letter or digit: %w", s.Version, ErrInvalidSpec)
	}
	names := s.Platforms
	if len(names) == 0 {
		names = defaultPlatforms()
	}
	seen := map[string]bool{}
	var out []platform
	for _, n := range names {
		p, err := parsePlatform(n)
		if err != nil {
			return nil, err
		}
		if seen[p.String()] {
			return nil, fmt.Errorf("spec field Platforms: %q is listed twice: %w", n, ErrInvalidSpec)
		}
		seen[p.String()] = true
		out = append(out, p)
	}
	return out, nil
}

// validVersion reports whether v is safe in -ldflags, a file name and a tag.
func validVersion(v string) bool {
	if len(v) == 0 || len(v) > 64 {
		return false
	}
	for i, c := range v {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("._+-", c)) {
			return false
		}
	}
	return true
}

// findGo returns the go command: on PATH, else $GOROOT/bin/go.
func findGo() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("the go command is not on PATH nor in $GOROOT/bin: set Config.GoBinary")
}

// findModuleDir walks up from the working directory to the folder holding go.mod.
func findModuleDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module dir: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: set Config.ModuleDir")
		}
		dir = parent
	}
}
