package backup

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// MetaFormat is the metadata format this package writes. Every older
// format stays readable: ReadMeta upgrades it.
const MetaFormat = 1

// MetaSuffix names the metadata file next to an app's data folder in a
// snapshot: "<app>.hearth.json".
const MetaSuffix = ".hearth.json"

// Meta describes the app a snapshot holds: enough to install it again on
// another box, with its settings and secrets.
type Meta struct {
	Format   int               `json:"format"`
	App      string            `json:"app"`
	Catalog  string            `json:"catalog,omitempty"`
	Version  string            `json:"version"`
	Manifest json.RawMessage   `json:"manifest"`
	Settings map[string]string `json:"settings,omitempty"`
	Secrets  map[string]string `json:"secrets,omitempty"`
	// Images are the pinned images the app ran, by service.
	Images map[string]string `json:"images,omitempty"`
	// Hearth is the version of hearthd that made the snapshot.
	Hearth string    `json:"hearth,omitempty"`
	Time   time.Time `json:"time"`
}

// appPattern is an app id (the agent's slug).
var appPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}[a-z0-9]$`)

// ValidApp says whether id may name an app's data folder and tag.
func ValidApp(id string) bool { return appPattern.MatchString(id) }

// ReadMeta decodes a metadata file of any format up to MetaFormat.
func ReadMeta(b []byte) (Meta, error) {
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return Meta{}, fmt.Errorf("backup metadata: %w", err)
	}
	switch {
	case m.Format < 1 || m.Format > MetaFormat:
		return Meta{}, fmt.Errorf("backup metadata: format %d, this program reads 1 to %d: %w", m.Format, MetaFormat, ErrInvalid)
	case !ValidApp(m.App):
		return Meta{}, fmt.Errorf("backup metadata: app %q: %w", m.App, ErrInvalid)
	case m.Version == "" || len(m.Manifest) == 0:
		return Meta{}, fmt.Errorf("backup metadata: version and manifest are required: %w", ErrInvalid)
	}
	return m, nil
}
