package catalog

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hearthbox/hearth/agent/manifest"
)

// Content limits of a payload.
const (
	maxTitle        = 80
	maxApps         = 2000
	maxVersions     = 100
	maxReleaseNotes = 16 << 10
	maxIcon         = 256 << 10 // the icon field, data: URL included
)

// slugPattern is the form of catalog and app ids.
var slugPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}[a-z0-9]$`)

// iconPrefixes are the data: URLs an icon may be.
var iconPrefixes = []string{"data:image/svg+xml;base64,", "data:image/png;base64,"}

// newCatalog checks the content of a decoded payload and builds the
// Catalog, or returns every problem as a *FieldError, joined.
func newCatalog(p *payloadJSON) (*Catalog, error) {
	var errs []error
	add := func(app, path, format string, args ...any) {
		errs = append(errs, &FieldError{App: app, Path: path, Reason: fmt.Sprintf(format, args...)})
	}
	if !slugPattern.MatchString(p.ID) {
		add("", "id", "%q must be 2-32 characters of a-z, 0-9 and '-', starting with a letter", p.ID)
	}
	if t := strings.TrimSpace(p.Title); t == "" || utf8.RuneCountInString(t) > maxTitle {
		add("", "title", "must be 1-%d characters", maxTitle)
	}
	if len(p.Apps) > maxApps {
		add("", "apps", "%d apps, at most %d", len(p.Apps), maxApps)
	}
	cat := &Catalog{ID: p.ID, Title: strings.TrimSpace(p.Title), Timestamp: p.Timestamp, Expires: p.Expires}
	seen := map[string]bool{}
	for i, a := range p.Apps {
		path := fmt.Sprintf("apps[%d]", i)
		if !slugPattern.MatchString(a.ID) {
			add(a.ID, path+".id", "%q must be 2-32 characters of a-z, 0-9 and '-', starting with a letter", a.ID)
			continue
		}
		if seen[a.ID] {
			add(a.ID, path+".id", "%q is listed twice", a.ID)
			continue
		}
		seen[a.ID] = true
		if err := checkIcon(a.Icon); err != nil {
			add(a.ID, path+".icon", "%v", err)
		}
		app, problems := newApp(path, a)
		errs = append(errs, problems...)
		if len(problems) == 0 {
			cat.Apps = append(cat.Apps, app)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(cat.Apps, func(a, b App) int { return strings.Compare(a.ID, b.ID) })
	return cat, nil
}

// newApp checks one app's versions and sorts them newest first.
func newApp(path string, a appJSON) (App, []error) {
	var errs []error
	add := func(p, format string, args ...any) {
		errs = append(errs, &FieldError{App: a.ID, Path: p, Reason: fmt.Sprintf(format, args...)})
	}
	if len(a.Versions) == 0 || len(a.Versions) > maxVersions {
		add(path+".versions", "%d versions, want 1 to %d", len(a.Versions), maxVersions)
		return App{}, errs
	}
	app := App{ID: a.ID, Icon: a.Icon}
	seen := map[string]bool{}
	for j, v := range a.Versions {
		vp := fmt.Sprintf("%s.versions[%d]", path, j)
		if seen[v.Version] {
			add(vp+".version", "%q is listed twice", v.Version)
			continue
		}
		seen[v.Version] = true
		if v.Published.IsZero() {
			add(vp+".published", "missing")
		}
		if len(v.ReleaseNotes) > maxReleaseNotes {
			add(vp+".releaseNotes", "%d bytes, at most %d", len(v.ReleaseNotes), maxReleaseNotes)
		}
		if len(v.Manifest) == 0 {
			add(vp+".manifest", "missing")
			continue
		}
		m, err := manifest.Parse(v.Manifest)
		if err != nil {
			for _, e := range flatten(err) {
				errs = append(errs, manifestProblem(a.ID, vp+".manifest", e))
			}
			continue
		}
		if m.ID != a.ID {
			add(vp+".manifest.id", "%q is not the app's id %q", m.ID, a.ID)
		}
		if m.Version != v.Version {
			add(vp+".version", "%q is not the manifest's version %q", v.Version, m.Version)
		}
		app.Versions = append(app.Versions, Version{
			Version:      v.Version,
			Manifest:     m,
			ManifestJSON: v.Manifest,
			ReleaseNotes: v.ReleaseNotes,
			Security:     v.Security,
			Published:    v.Published,
		})
	}
	if len(errs) > 0 {
		return App{}, errs
	}
	// Versions are valid semver here (the manifests parsed).
	slices.SortStableFunc(app.Versions, func(x, y Version) int {
		c, _ := manifest.CompareVersions(y.Version, x.Version)
		return c
	})
	return app, nil
}

// manifestProblem turns one error of manifest.Parse into a FieldError whose
// path is prefixed with the manifest's place in the payload.
func manifestProblem(app, prefix string, err error) error {
	if fe, ok := errors.AsType[*manifest.FieldError](err); ok {
		p := prefix
		if fe.Path != "" {
			p += "." + fe.Path
		}
		return &FieldError{App: app, Path: p, Reason: fe.Reason}
	}
	return &FieldError{App: app, Path: prefix, Reason: err.Error()}
}

// flatten returns the leaves of a tree of joined errors. An error that wraps
// a single error which is itself a join is flattened through.
func flatten(err error) []error {
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		var out []error
		for _, x := range e.Unwrap() {
			out = append(out, flatten(x)...)
		}
		return out
	case interface{ Unwrap() error }:
		if inner := flatten(e.Unwrap()); len(inner) > 1 {
			return inner
		}
	}
	return []error{err}
}

// checkIcon accepts "", a base64 data: URL of an SVG or PNG image, or an
// https URL.
func checkIcon(icon string) error {
	if icon == "" {
		return nil
	}
	if len(icon) > maxIcon {
		return fmt.Errorf("%d bytes, at most %d", len(icon), maxIcon)
	}
	for _, prefix := range iconPrefixes {
		if data, ok := strings.CutPrefix(icon, prefix); ok {
			if _, err := base64.StdEncoding.DecodeString(data); err != nil {
				return fmt.Errorf("data URL: not base64: %w", err)
			}
			return nil
		}
	}
	u, err := url.Parse(icon)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return errors.New("must be a data:image/svg+xml;base64, or data:image/png;base64, URL or an https URL")
	}
	return nil
}
