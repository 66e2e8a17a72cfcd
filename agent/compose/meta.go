package compose

import (
	"sort"
	"strings"

	"go.yaml.in/yaml/v4"
)

// meta is what a platform says about an app beside its compose file.
type meta struct {
	id          string // the platform's id, for the default app id
	title       string
	tagline     string
	description string
	icon        string // an https URL, or a file of the folder
	category    string // the platform's own category
	website     string
	author      string
	packager    string
	version     string // the upstream version
	screenshots []string
	// architectures the app supports ("amd64", "arm64"); nil: not said.
	architectures []string
	main          string // the main service
	webPort       string // the web port, as the platform writes it
	webHost       string // the host of the web entry (Umbrel's APP_HOST)
	webPath       string // the path of the start page
	httpsBackend  bool   // the web port speaks HTTPS
	notes         []string
	defaults      map[string]string // interpolation defaults (.env, .env.sample)
	fields        []formField       // Runtipi's form fields
	needs         []string          // other apps this one needs (Umbrel)
}

// localized returns the English text of a CasaOS-style localized field
// ({en_US: ..., zh_CN: ...}) or the field itself when it is a string.
func localized(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if n.Kind == yaml.ScalarNode {
		return strings.TrimSpace(n.Value)
	}
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for _, lang := range []string{"en_US", "en_GB", "en"} {
		if v := mapGet(n, lang); v != nil && v.Kind == yaml.ScalarNode && strings.TrimSpace(v.Value) != "" {
			return strings.TrimSpace(v.Value)
		}
	}
	keys := mapKeys(n)
	sort.Strings(keys)
	for _, k := range keys {
		if v := mapGet(n, k); v.Kind == yaml.ScalarNode && strings.TrimSpace(v.Value) != "" {
			return strings.TrimSpace(v.Value)
		}
	}
	return ""
}

// scalar returns a scalar node's value, or "".
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return strings.TrimSpace(n.Value)
}

// categories maps the platforms' categories (lower case) to Hearth's.
var categories = map[string]string{
	"media": "media", "music": "media", "video": "media", "entertainment": "media", "streaming": "media",
	"downloader": "media", "download": "media", "downloads": "media",
	"others": "other", "other": "other", "utilities": "other", "gaming": "other", "games": "other", "ai": "other",
	"featured": "other", "data": "other",
	"developer": "development", "development": "development", "dev": "development",
	"productivity": "productivity", "office": "productivity", "documents": "productivity",
	"networking": "networking", "network": "networking", "vpn": "networking",
	"home": "home-automation", "automation": "home-automation", "home-automation": "home-automation", "smart home": "home-automation",
	"social": "social", "communication": "communication", "chat": "communication", "email": "communication", "mail": "communication",
	"finance": "finance", "crypto": "finance", "bitcoin": "finance", "lightning": "finance",
	"files": "files", "file": "files", "storage": "files", "backup": "files", "cloud": "files", "sync": "files",
	"photos": "photos", "photography": "photos", "photo": "photos", "gallery": "photos",
	"reading": "reading", "books": "reading", "rss": "reading", "news": "reading",
	"security": "passwords", "passwords": "passwords", "password": "passwords",
	"monitoring": "monitoring", "dashboard": "monitoring", "analytics": "monitoring",
}

// category maps a platform's category to Hearth's closed list.
func category(c string) string {
	if h, ok := categories[strings.ToLower(strings.TrimSpace(c))]; ok {
		return h
	}
	return "other"
}
