package compose

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/distribution/reference"
	"github.com/hearthbox/hearth/agent/manifest"
)

// identity fills the manifest's title, version, texts, icon and links from
// the platform's metadata, with defaults for what it does not say.
func (t *translator) identity(m *manifest.Manifest) {
	mt := t.meta
	m.Title = oneLine(mt.title, 60)
	if m.Title == "" {
		m.Title = oneLine(strings.ReplaceAll(t.appID, "-", " "), 60)
	}
	upstream := oneLine(mt.version, 64)
	if upstream == "" {
		upstream = t.imageTag()
	}
	m.UpstreamVersion = upstream
	m.Version = semver(upstream)
	m.Description = markdownText(mt.description)
	m.Tagline = oneLine(mt.tagline, 80)
	if m.Tagline == "" {
		m.Tagline = oneLine(firstSentence(m.Description), 80)
	}
	if m.Tagline == "" {
		m.Tagline = "Imported from a " + kindName(t.kind) + " project"
	}
	m.Icon = t.icon()
	m.Category = category(mt.category)
	if w := strings.TrimSpace(mt.website); w != "" {
		if strings.HasPrefix(w, "https://") && !strings.ContainsAny(w, " \t\n") {
			m.Website = w
		} else {
			t.warn("", "website", "%q is not an https address: left out", w)
		}
	}
	for _, s := range mt.screenshots {
		s = strings.TrimSpace(s)
		if strings.HasPrefix(s, "https://") && !strings.ContainsAny(s, " \t\n") && !slices.Contains(m.Screenshots, s) && len(m.Screenshots) < 12 && len(s) <= 2048 {
			m.Screenshots = append(m.Screenshots, s)
		}
	}
	m.Author = oneLine(mt.author, 200)
	m.Packager = oneLine(mt.packager, 200)
	notes := slices.Clone(mt.notes)
	if p := strings.TrimSpace(mt.webPath); p != "" && p != "/" && strings.HasPrefix(p, "/") {
		notes = append(notes, "The app's start page is "+p+".")
	}
	m.PostInstallNotes = markdownText(strings.Join(notes, "\n\n"))
}

func kindName(kind string) string {
	switch kind {
	case KindCasaOS:
		return "CasaOS"
	case KindUmbrel:
		return "Umbrel"
	case KindRuntipi:
		return "Runtipi"
	case KindCoopCloud:
		return "Co-op Cloud"
	}
	return "compose"
}

// icon prefers an icon file of the project, then the platform's https
// address; without either the manifest names icon.svg, which the project
// lacks, and says so.
func (t *translator) icon() string {
	for _, f := range []string{t.meta.icon, "icon.svg", "icon.png", "logo.svg", "logo.png", "metadata/logo.svg", "metadata/logo.png"} {
		if f != "" && !strings.Contains(f, "://") && (strings.HasSuffix(f, ".svg") || strings.HasSuffix(f, ".png")) &&
			filepathLocal(f) && t.src.exists2(f) {
			return f
		}
	}
	if i := strings.TrimSpace(t.meta.icon); strings.HasPrefix(i, "https://") && !strings.ContainsAny(i, " \t\n") && len(i) <= 2048 {
		return i
	}
	t.warn("", "icon", "the project has no icon file (icon.svg, icon.png) and no https icon address: the manifest names icon.svg")
	return "icon.svg"
}

func filepathLocal(f string) bool {
	return !strings.HasPrefix(f, "/") && !strings.Contains(f, "..") && !strings.ContainsAny(f, " \\\t\n")
}

// imageTag returns the tag of the web service's image (else the first
// service's), the best guess at the upstream version.
func (t *translator) imageTag() string {
	names := slices.Clone(t.order)
	if t.web.service != "" {
		names = append([]string{t.web.service}, names...)
	}
	for _, n := range names {
		if o := t.out[n]; o != nil {
			if named, err := reference.ParseNormalizedNamed(o.Image.Ref); err == nil {
				if tagged, ok := named.(reference.Tagged); ok && tagged.Tag() != "latest" {
					return oneLine(tagged.Tag(), 64)
				}
			}
		}
	}
	return ""
}

var versionPrefix = regexp.MustCompile(`^[vV]?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?`)

// semver makes a package version of an upstream version ("v2.7" is
// "2.7.0", "2024.06.1-ls12" is "2024.6.1-ls12"); "1.0.0" when it has none.
func semver(v string) string {
	g := versionPrefix.FindStringSubmatch(strings.TrimSpace(v))
	if g == nil {
		return "1.0.0"
	}
	parts := []string{g[1], g[2], g[3]}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			n = 0
		}
		parts[i] = strconv.FormatUint(n, 10)
	}
	s := strings.Join(parts, ".")
	if g[4] != "" {
		s += "-" + g[4]
	}
	if g[5] != "" {
		s += "+" + g[5]
	}
	if _, err := manifest.ParseVersion(s); err != nil {
		s = strings.Join(parts, ".")
	}
	return s
}

// oneLine makes a one-line text of at most limit characters.
func oneLine(s string, limit int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if r := []rune(s); len(r) > limit {
		s = strings.TrimSpace(string(r[:limit-1])) + "…"
	}
	return s
}

// markdownText keeps a markdown text within 8 KiB, without control
// characters other than newlines and tabs.
func markdownText(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > 8192 {
		s = s[:8189]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

// firstSentence returns a text's first sentence (or line).
func firstSentence(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if i := strings.Index(s, ". "); i > 0 {
		s = s[:i+1]
	}
	return s
}
