package catalog

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hearthbox/hearth/agent/compose"
	"github.com/hearthbox/hearth/agent/manifest"
)

// BuildMeta is what Build writes at the top of a payload.
type BuildMeta struct {
	// ID and Title name the catalog; a Source that follows it has the same
	// ID.
	ID    string
	Title string
	// Timestamp must grow with every catalog published under ID; Expires
	// is when boxes stop accepting it (a year later for the official one).
	Timestamp time.Time
	Expires   time.Time
}

// Resolver returns the digest ("sha256:<64 hex>") of the image ref for a
// platform ("linux/arm64"), typically by asking its registry.
type Resolver func(ctx context.Context, ref, platform string) (string, error)

// Source tree files, relative to an app's folder (or to one of its
// versions/<version>/ folders).
const (
	manifestFile     = "manifest.json"
	releaseFile      = "release.json"
	releaseNotesFile = "release-notes.md"
	versionsDir      = "versions"
	maxIconFile      = 192 << 10 // its base64 data: URL stays under maxIcon
)

// digestPattern is the form of an image digest.
var digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// releaseJSON is a version's release.json.
type releaseJSON struct {
	Published time.Time `json:"published"`
	Security  bool      `json:"security,omitempty"`
}

// Build makes a catalog payload from a source tree:
//
//	<srcDir>/<app>/manifest.json      the newest version's manifest
//	              release.json        {"published": "<RFC 3339>", "security": false}
//	              release-notes.md    optional, markdown
//	              icon.svg            the icon the manifest names (svg or png)
//	              versions/<version>/ older versions still offered: manifest.json,
//	                                  release.json, release-notes.md
//
// Every platform of every image with an empty digest is given to resolve
// (when not nil); a digest it returns is written into the manifest, and a
// failure is logged and leaves the digest empty, for the agent to pin at
// install. Build reports every problem of the tree at once (ErrBuild),
// naming the file; what it returns is a payload Verify accepts. The output
// depends only on the tree, meta and resolve, so a rebuild is reproducible.
func Build(ctx context.Context, srcDir string, meta BuildMeta, resolve Resolver, logger *slog.Logger) ([]byte, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "catalog")
	if err := meta.check(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(srcDir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBuild, err)
	}
	b := &builder{ctx: ctx, dir: srcDir, resolve: resolve, log: logger}
	p := payloadJSON{
		CatalogVersion: formatVersion,
		ID:             meta.ID,
		Title:          meta.Title,
		Timestamp:      meta.Timestamp.UTC().Truncate(time.Second),
		Expires:        meta.Expires.UTC().Truncate(time.Second),
		Apps:           []appJSON{},
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
		if a, ok := b.app(e.Name()); ok {
			p.Apps = append(p.Apps, a)
		}
	}
	if len(b.errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrBuild, errors.Join(b.errs...))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	// What Build makes, Verify must accept.
	dp, err := decodePayload(buf.Bytes())
	if err == nil {
		_, err = newCatalog(dp)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the payload built is refused: %w", ErrBuild, err)
	}
	return buf.Bytes(), nil
}

func (m BuildMeta) check() error {
	switch {
	case !slugPattern.MatchString(m.ID):
		return fmt.Errorf("%w: meta.id: %q must be 2-32 characters of a-z, 0-9 and '-', starting with a letter", ErrInvalidSource, m.ID)
	case strings.TrimSpace(m.Title) == "" || utf8.RuneCountInString(m.Title) > maxTitle:
		return fmt.Errorf("%w: meta.title: must be 1-%d characters", ErrInvalidSource, maxTitle)
	case m.Timestamp.IsZero():
		return fmt.Errorf("%w: meta.timestamp: missing", ErrInvalidSource)
	case !m.Expires.Truncate(time.Second).After(m.Timestamp.Truncate(time.Second)):
		return fmt.Errorf("%w: meta.expires: must be after the timestamp", ErrInvalidSource)
	}
	return nil
}

// builder collects the problems of one Build.
type builder struct {
	ctx     context.Context
	dir     string
	resolve Resolver
	log     *slog.Logger
	errs    []error
}

func (b *builder) fail(file, format string, args ...any) {
	b.errs = append(b.errs, fmt.Errorf("%s: %s", file, fmt.Sprintf(format, args...)))
}

// app reads one app folder.
func (b *builder) app(id string) (appJSON, bool) {
	n := len(b.errs)
	a := appJSON{ID: id}
	if !slugPattern.MatchString(id) {
		b.fail(id, "the folder name must be an app id: 2-32 characters of a-z, 0-9 and '-', starting with a letter")
		return a, false
	}
	newest, m, ok := b.version(id, id, "")
	if ok {
		a.Versions = append(a.Versions, newest)
		a.Icon = b.icon(id, m.Icon)
	}
	older, err := os.ReadDir(filepath.Join(b.dir, id, versionsDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		b.fail(path.Join(id, versionsDir), "%v", err)
	}
	for _, e := range older {
		if !e.IsDir() {
			continue
		}
		if v, _, ok := b.version(id, path.Join(id, versionsDir, e.Name()), e.Name()); ok {
			a.Versions = append(a.Versions, v)
		}
	}
	if len(b.errs) > n {
		return a, false
	}
	slices.SortStableFunc(a.Versions, func(x, y versionJSON) int {
		c, _ := manifest.CompareVersions(y.Version, x.Version)
		return c
	})
	return a, true
}

// version reads one version folder (rel to the source tree). want is the
// version the folder's name says, "" for the app's newest.
func (b *builder) version(id, rel, want string) (versionJSON, *manifest.Manifest, bool) {
	n := len(b.errs)
	mfile := path.Join(rel, manifestFile)
	raw, err := readFile(filepath.Join(b.dir, mfile), manifest.MaxSize)
	if errors.Is(err, fs.ErrNotExist) {
		// A version of kind "compose": a compose project, translated once,
		// here, into a manifest.
		raw, err = b.importCompose(id, rel)
		if err != nil {
			b.fail(rel, "%v", err)
			return versionJSON{}, nil, false
		}
	} else if err != nil {
		b.fail(mfile, "%v", err)
		return versionJSON{}, nil, false
	}
	m, err := manifest.Parse(raw)
	if err != nil {
		for _, e := range flatten(err) {
			b.fail(mfile, "%v", e)
		}
		return versionJSON{}, nil, false
	}
	if m.ID != id {
		b.fail(mfile, "id: %q is not the folder's name %q", m.ID, id)
	}
	if want != "" && m.Version != want {
		b.fail(mfile, "version: %q is not the folder's name %q", m.Version, want)
	}
	raw = b.fillDigests(mfile, m, raw)
	v := versionJSON{Version: m.Version, Manifest: raw}
	rfile := path.Join(rel, releaseFile)
	var r releaseJSON
	if data, err := readFile(filepath.Join(b.dir, rfile), 64<<10); err != nil {
		b.fail(rfile, "%v", err)
	} else if err := decodeStrict(data, &r); err != nil {
		b.fail(rfile, "%v", err)
	} else if r.Published.IsZero() {
		b.fail(rfile, "published: missing")
	}
	v.Published, v.Security = r.Published.UTC(), r.Security
	nfile := path.Join(rel, releaseNotesFile)
	notes, err := readFile(filepath.Join(b.dir, nfile), maxReleaseNotes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		b.fail(nfile, "%v", err)
	default:
		v.ReleaseNotes = strings.TrimSpace(string(notes))
	}
	return v, m, len(b.errs) == n
}

// fillDigests asks the resolver for every empty digest of the manifest and
// returns the manifest's bytes, rewritten if a digest was filled.
func (b *builder) fillDigests(file string, m *manifest.Manifest, raw []byte) []byte {
	if b.resolve == nil {
		return raw
	}
	filled := map[string]map[string]string{} // service -> platform -> digest
	for _, name := range slices.Sorted(maps.Keys(m.Services)) {
		img := m.Services[name].Image
		for _, platform := range slices.Sorted(maps.Keys(img.Platforms)) {
			if img.Platforms[platform] != "" {
				continue
			}
			d, err := b.resolve(b.ctx, img.Ref, platform)
			if err == nil && !digestPattern.MatchString(d) {
				err = fmt.Errorf("resolver returned %q, not a sha256 digest", d)
			}
			if err != nil {
				b.log.Warn("digest not resolved: the agent pins it at install",
					"file", file, "ref", img.Ref, "platform", platform, "err", err)
				continue
			}
			b.log.Debug("digest resolved", "file", file, "ref", img.Ref, "platform", platform, "digest", d)
			if filled[name] == nil {
				filled[name] = map[string]string{}
			}
			filled[name][platform] = d
		}
	}
	if len(filled) == 0 {
		return raw
	}
	out, err := setDigests(raw, filled)
	if err == nil {
		_, err = manifest.Parse(out)
	}
	if err != nil {
		b.fail(file, "writing digests: %v", err)
		return raw
	}
	return out
}

// setDigests writes digests into services.<name>.image.platforms of a
// manifest's JSON. The result has its object keys sorted.
func setDigests(raw []byte, filled map[string]map[string]string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	services, _ := doc["services"].(map[string]any)
	for name, platforms := range filled {
		svc, _ := services[name].(map[string]any)
		img, _ := svc["image"].(map[string]any)
		ps, ok := img["platforms"].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("services.%s.image.platforms: not an object", name)
		}
		for p, d := range platforms {
			ps[p] = d
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

// icon returns the catalog's icon field for a manifest's icon: an https URL
// as is, a file of the app's folder as a data: URL.
func (b *builder) icon(id, icon string) string {
	if strings.HasPrefix(icon, "https://") {
		return icon
	}
	file := path.Join(id, icon)
	var mime string
	switch strings.ToLower(path.Ext(icon)) {
	case ".svg":
		mime = "image/svg+xml"
	case ".png":
		mime = "image/png"
	default:
		b.fail(file, "an icon must be .svg or .png")
		return ""
	}
	data, err := readFile(filepath.Join(b.dir, filepath.FromSlash(file)), maxIconFile)
	if err != nil {
		b.fail(file, "%v", err)
		return ""
	}
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data)
}

// readFile reads a regular file of at most limit bytes.
func readFile(name string, limit int64) ([]byte, error) {
	fi, err := os.Stat(name)
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return nil, pe.Err // the caller names the file
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%d bytes, at most %d", fi.Size(), limit)
	}
	return os.ReadFile(name)
}

// importCompose translates the compose project in the folder rel into a
// manifest, or says why it cannot be installed.
func (b *builder) importCompose(id, rel string) ([]byte, error) {
	plan, err := compose.Import(b.ctx, filepath.Join(b.dir, rel), compose.Options{AppID: id})
	if err != nil {
		return nil, fmt.Errorf("no %s and no compose project: %w", manifestFile, err)
	}
	if plan.Refused != nil {
		return nil, fmt.Errorf("the compose project cannot be installed: %s", plan.Refused)
	}
	for _, w := range plan.Warnings {
		b.log.Info("compose import", "app", id, "warning", w.String())
	}
	raw, err := json.Marshal(plan.Manifest)
	if err != nil {
		return nil, fmt.Errorf("encode the imported manifest: %w", err)
	}
	return raw, nil
}
