package compose

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/hearthbox/hearth/agent/manifest"
)

// Kinds of compose projects Import recognises.
const (
	KindCompose   = "compose"    // a plain compose project
	KindCasaOS    = "casaos"     // a compose file with CasaOS's x-casaos extension
	KindUmbrel    = "umbrel"     // an Umbrel app: umbrel-app.yml beside the compose file
	KindRuntipi   = "runtipi"    // a Runtipi app: config.json beside the compose file
	KindCoopCloud = "coop-cloud" // a Co-op Cloud recipe: compose.yml with .env.sample
)

// ErrOptions is returned when Options are unusable (not when the project
// is: that is a Plan with a Refusal).
var ErrOptions = errors.New("invalid import options")

// Options tune an import. The zero value imports for linux/amd64 with an
// app id taken from the project.
type Options struct {
	// AppID is the installed app's id (a manifest slug). Empty takes the
	// platform's id (umbrel-app.yml, Runtipi's config.json, x-casaos),
	// else the project's folder name, slugified.
	AppID string
	// Platform is the box's platform, "linux/amd64" (default) or
	// "linux/arm64".
	Platform string
	// Env holds extra interpolation values, used for variables Hearth does
	// not define itself (before the project's .env). Variables that look
	// like passwords are always generated settings and ignore it.
	Env map[string]string
}

// Plan is the result of an import: the manifest to install and what the
// owner must know, or why the project cannot be installed.
type Plan struct {
	// Manifest is the app, valid (manifest.Validate passes); nil when
	// Refused is set.
	Manifest *manifest.Manifest `json:"manifest,omitempty"`
	// Kind is one of the Kind constants.
	Kind string `json:"kind"`
	// Permissions are what the owner must grant at install (the
	// manifest's permissions, in manifest.Permissions order).
	Permissions []manifest.Permission `json:"permissions,omitempty"`
	// Warnings say what was mapped approximately or left out.
	Warnings []Warning `json:"warnings,omitempty"`
	// Refused says why the project cannot be installed.
	Refused *Refusal `json:"refused,omitempty"`
}

// Warning is something of the project that was mapped approximately or
// left out. Service is the compose service's name ("" for the project);
// Key is the compose key ("volumes[2]", "network_mode").
type Warning struct {
	Service string `json:"service,omitempty"`
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
}

// String returns "service key: message".
func (w Warning) String() string { return where(w.Service, w.Key) + w.Message }

// Refusal says why a project cannot be installed: the compose service and
// key at fault, and for a malformed file the file and line when known.
type Refusal struct {
	Service string `json:"service,omitempty"`
	Key     string `json:"key,omitempty"`
	Reason  string `json:"reason"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
}

// String returns "file:line: service key: reason", leaving out what is
// not known.
func (r *Refusal) String() string {
	s := ""
	if r.File != "" {
		s = r.File
		if r.Line > 0 {
			s += ":" + strconv.Itoa(r.Line)
		}
		s += ": "
	}
	return s + where(r.Service, r.Key) + r.Reason
}

func where(service, key string) string {
	switch {
	case service != "" && key != "":
		return service + " " + key + ": "
	case service != "":
		return service + ": "
	case key != "":
		return key + ": "
	}
	return ""
}

// Import reads the compose project at path (a folder, or a compose file
// whose folder is the project) and translates it into a Plan. It reads only
// files inside the project's folder and runs nothing. The error is for I/O
// and bad options only: a project that cannot be installed, malformed
// files included, is a Plan whose Refused says why.
func Import(ctx context.Context, path string, opts Options) (*Plan, error) {
	if err := checkOptions(&opts); err != nil {
		return nil, err
	}
	src, err := openSource(path)
	if err != nil {
		return nil, err
	}
	defer src.close()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	return translate(ctx, src, opts)
}

var slugPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}[a-z0-9]$`)

func checkOptions(o *Options) error {
	if o.AppID != "" && !slugPattern.MatchString(o.AppID) {
		return fmt.Errorf("%w: AppID %q must be 2-32 characters of a-z, 0-9 and '-', starting with a letter", ErrOptions, o.AppID)
	}
	switch o.Platform {
	case "":
		o.Platform = manifest.PlatformAMD64
	case manifest.PlatformAMD64, manifest.PlatformARM64:
	default:
		return fmt.Errorf("%w: Platform %q must be %s or %s", ErrOptions, o.Platform, manifest.PlatformAMD64, manifest.PlatformARM64)
	}
	for k := range o.Env {
		if !envName.MatchString(k) {
			return fmt.Errorf("%w: Env: %q is not a variable name", ErrOptions, k)
		}
	}
	return nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
