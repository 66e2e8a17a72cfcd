package catalog

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/hearthbox/hearth/agent/manifest"
)

// Catalog is a verified catalog. It is shared and read-only: Manager hands
// the same value to every caller, so nobody may modify it.
type Catalog struct {
	ID    string
	Title string
	// Timestamp is when the catalog was published; a box never accepts an
	// older one for the same source.
	Timestamp time.Time
	// Expires is when the catalog stops being accepted.
	Expires time.Time
	// Apps are sorted by ID.
	Apps []App
	// Official is set for the catalog of the official source (from the
	// Source it was loaded for, never from the payload).
	Official bool
	// Digest is "sha256:<hex>" of the payload bytes.
	Digest string
	// SignedBy lists the IDs of the trusted keys whose signatures verified.
	SignedBy []string
}

// App is one app of a catalog.
type App struct {
	ID string
	// Icon is a data: URL (SVG or PNG) or an https URL; empty if none.
	Icon string
	// Versions are sorted newest first; there is at least one.
	Versions []Version
}

// Version is one version of an app.
type Version struct {
	// Version is the package version (semver), equal to Manifest.Version.
	Version string
	// Manifest is the parsed, validated manifest.
	Manifest *manifest.Manifest
	// ManifestJSON is the manifest exactly as signed, for the caller to
	// store with an installed app.
	ManifestJSON json.RawMessage
	// ReleaseNotes is markdown.
	ReleaseNotes string
	// Security marks a release that fixes a security problem.
	Security  bool
	Published time.Time
}

// Held is what the box holds of a source's catalog: the newest timestamp it
// accepted and the digest of that payload. The caller persists it with the
// envelope; Verify refuses anything older.
type Held struct {
	Timestamp time.Time
	Digest    string
}

// Held returns what the box holds once it accepts c.
func (c *Catalog) Held() Held { return Held{Timestamp: c.Timestamp, Digest: c.Digest} }

// Expired reports whether c is past its expiry at now.
func (c *Catalog) Expired(now time.Time) bool { return now.After(c.Expires) }

// App returns the app with this id.
func (c *Catalog) App(id string) (App, bool) {
	for _, a := range c.Apps {
		if a.ID == id {
			return a, true
		}
	}
	return App{}, false
}

// Latest returns the newest version that is not a pre-release, or the newest
// version if all are pre-releases. It returns the zero Version for an App
// without versions (Verify never produces one).
func (a App) Latest() Version {
	for _, v := range a.Versions {
		if !isPrerelease(v.Version) {
			return v
		}
	}
	if len(a.Versions) > 0 {
		return a.Versions[0]
	}
	return Version{}
}

// Version returns the version v of the app.
func (a App) Version(v string) (Version, bool) {
	for _, x := range a.Versions {
		if x.Version == v {
			return x, true
		}
	}
	return Version{}, false
}

// Newer returns the versions newer than installed, newest first (the
// updates on offer; any of them may be marked Security). An installed
// version that is not valid semver is treated as older than all.
func (a App) Newer(installed string) []Version {
	var out []Version
	for _, v := range a.Versions {
		c, err := manifest.CompareVersions(v.Version, installed)
		if err != nil || c > 0 {
			out = append(out, v)
		}
	}
	return out
}

// isPrerelease reports whether a semver string has a pre-release part.
func isPrerelease(v string) bool {
	if i := strings.IndexByte(v, '+'); i >= 0 {
		v = v[:i]
	}
	return strings.Contains(v, "-")
}
