package compose

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"go.yaml.in/yaml/v4"
)

// readMeta tells the kind of project from the files beside the compose
// file and reads what its platform says about the app.
func (t *translator) readMeta() error {
	if mapGet(t.doc.top, "include") != nil {
		t.refuse("", "include", "include is not supported: merge the included files into one compose file")
		return nil
	}
	if v := mapKeyNode(t.doc.top, "version"); v != nil {
		mapDelete(t.doc.top, "version") // obsolete; compose-go would only log about it
	}
	env, err := t.readEnv(".env")
	if err != nil || t.refused != nil {
		return err
	}
	t.meta.defaults = env
	if data, ok, err := t.readSide("umbrel-app.yml"); err != nil || ok {
		if err == nil && t.refused == nil {
			t.kind = KindUmbrel
			t.umbrelMeta(data)
		}
		return err
	}
	cfg, ok, err := t.readSide("config.json")
	if err != nil || t.refused != nil {
		return err
	}
	var tipi tipiConfig
	if ok {
		if jerr := json.Unmarshal(cfg, &tipi); jerr != nil {
			t.sideRefusal("config.json", cfg, jerr)
			return nil
		}
	}
	switch {
	case ok && tipi.runtipi():
		t.kind = KindRuntipi
		t.runtipiMeta(tipi)
	case mapGet(t.doc.top, "x-casaos") != nil:
		t.kind = KindCasaOS
		t.casaosMeta(mapGet(t.doc.top, "x-casaos"))
		if ok && t.meta.version == "" {
			t.meta.version = tipi.Version // BigBear's config.json
		}
	default:
		sample, err := t.readEnv(".env.sample")
		if err != nil || t.refused != nil {
			return err
		}
		if sample != nil || t.coopLabels() {
			t.kind = KindCoopCloud
			merged := map[string]string{}
			for _, m := range []map[string]string{sample, env} {
				for k, v := range m {
					merged[k] = v
				}
			}
			t.meta.defaults = merged
			t.meta.id = merged["TYPE"] // the recipe's name
		} else {
			t.kind = KindCompose
		}
	}
	return nil
}

// readSide reads a platform file beside the compose file.
func (t *translator) readSide(name string) ([]byte, bool, error) {
	data, ok, err := t.src.read(name)
	if errors.Is(err, errTooLarge) || errors.Is(err, errOutside) {
		t.refused = fileRefusal(name, err)
		return nil, false, nil
	}
	return data, ok, err
}

// readEnv reads a dotenv file of the folder; nil when there is none.
func (t *translator) readEnv(name string) (map[string]string, error) {
	data, ok, err := t.readSide(name)
	if err != nil || !ok {
		return nil, err
	}
	m, perr := dotenv.ParseWithLookup(bytes.NewReader(data), func(string) (string, bool) { return "", false })
	if perr != nil {
		t.refused = &Refusal{File: name, Reason: "not a valid env file: " + perr.Error()}
		return nil, nil
	}
	return m, nil
}

func (t *translator) sideRefusal(name string, data []byte, err error) {
	r := &Refusal{File: name, Reason: "not valid: " + err.Error()}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		r.Line = 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
	}
	t.refused = r
}

// coopLabels reports whether a service carries Co-op Cloud's labels.
func (t *translator) coopLabels() bool {
	svcs := t.doc.services()
	for _, name := range mapKeys(svcs) {
		s := mapGet(svcs, name)
		for _, n := range []*yaml.Node{mapGet(s, "labels"), mapGet(mapGet(s, "deploy"), "labels")} {
			for _, l := range scalarStrings(n) {
				if strings.HasPrefix(l, "coop-cloud.") {
					return true
				}
			}
		}
	}
	return false
}

// casaosMeta reads the x-casaos extension.
func (t *translator) casaosMeta(x *yaml.Node) {
	m := &t.meta
	m.id = lastDot(scalar(mapGet(x, "store_app_id")))
	if m.id == "" {
		m.id = lastDot(scalar(mapGet(x, "id")))
	}
	m.title = localized(mapGet(x, "title"))
	m.tagline = localized(mapGet(x, "tagline"))
	m.description = localized(mapGet(x, "description"))
	m.icon = scalar(mapGet(x, "icon"))
	m.category = scalar(mapGet(x, "category"))
	m.website = scalar(mapGet(x, "website"))
	m.author = scalar(mapGet(x, "developer"))
	m.packager = scalar(mapGet(x, "author"))
	m.version = scalar(mapGet(x, "version"))
	m.screenshots = scalarStrings(mapGet(x, "screenshot_link"))
	if a := mapGet(x, "architectures"); a != nil {
		m.architectures = append([]string{}, scalarStrings(a)...)
	}
	m.main = scalar(mapGet(x, "main"))
	m.webPort = scalar(mapGet(x, "port_map"))
	m.webPath = scalar(mapGet(x, "index"))
	m.httpsBackend = strings.EqualFold(scalar(mapGet(x, "scheme")), "https")
	if tip := localized(mapGet(mapGet(x, "tips"), "before_install")); tip != "" {
		m.notes = append(m.notes, tip)
	}
}

func lastDot(s string) string {
	if i := strings.LastIndex(s, "."); i >= 0 {
		return s[i+1:]
	}
	return s
}

// umbrelMeta reads umbrel-app.yml and takes Umbrel's app_proxy service out
// of the compose file: its APP_HOST and APP_PORT are the web entry.
func (t *translator) umbrelMeta(data []byte) {
	var u struct {
		ID              string   `yaml:"id"`
		Name            string   `yaml:"name"`
		Tagline         string   `yaml:"tagline"`
		Description     string   `yaml:"description"`
		Developer       string   `yaml:"developer"`
		Website         string   `yaml:"website"`
		Category        string   `yaml:"category"`
		Version         string   `yaml:"version"`
		Icon            string   `yaml:"icon"`
		Path            string   `yaml:"path"`
		Port            any      `yaml:"port"`
		Gallery         []string `yaml:"gallery"`
		Dependencies    []string `yaml:"dependencies"`
		DefaultUsername string   `yaml:"defaultUsername"`
		DefaultPassword string   `yaml:"defaultPassword"`
		Submitter       string   `yaml:"submitter"`
	}
	if err := yaml.Unmarshal(data, &u); err != nil {
		r := yamlRefusal("umbrel-app.yml", err)
		t.refused = r
		return
	}
	m := &t.meta
	m.id, m.title, m.tagline, m.description = u.ID, u.Name, u.Tagline, u.Description
	m.author, m.website, m.category, m.version, m.icon = u.Developer, u.Website, u.Category, u.Version, u.Icon
	m.packager = u.Submitter
	m.webPath = u.Path
	m.needs = u.Dependencies
	for _, g := range u.Gallery {
		if strings.HasPrefix(g, "https://") {
			m.screenshots = append(m.screenshots, g)
		}
	}
	if u.DefaultUsername != "" || u.DefaultPassword != "" {
		note := "Sign in"
		if u.DefaultUsername != "" {
			note += " as " + u.DefaultUsername
		}
		if strings.Contains(u.DefaultPassword, "APP_PASSWORD") {
			note += " with the generated password (setting app_password)"
		}
		m.notes = append(m.notes, note+".")
	}
	proxy := mapDelete(t.doc.services(), "app_proxy")
	env := map[string]string{}
	for _, kv := range scalarStrings(mapGet(proxy, "environment")) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	m.webHost, m.webPort = env["APP_HOST"], env["APP_PORT"]
	if m.webPort == "" && u.Port != nil {
		m.webPort = fmt.Sprint(u.Port)
	}
}

// tipiConfig is Runtipi's config.json (and BigBear's, which shares the
// name and little else).
type tipiConfig struct {
	Name         string      `json:"name"`
	ID           string      `json:"id"`
	Port         json.Number `json:"port"`
	ShortDesc    string      `json:"short_desc"`
	Description  string      `json:"description"`
	Author       string      `json:"author"`
	Source       string      `json:"source"`
	Website      string      `json:"website"`
	Version      string      `json:"version"`
	TipiVersion  json.Number `json:"tipi_version"`
	Categories   []string    `json:"categories"`
	FormFields   []formField `json:"form_fields"`
	Architecture []string    `json:"supported_architectures"`
	URLSuffix    string      `json:"url_suffix"`
	HTTPS        bool        `json:"https"`
}

func (c tipiConfig) runtipi() bool {
	return c.TipiVersion != "" || c.FormFields != nil || c.ShortDesc != ""
}

// formField is one of Runtipi's install form fields.
type formField struct {
	Type        string       `json:"type"`
	Label       string       `json:"label"`
	Hint        string       `json:"hint"`
	Required    bool         `json:"required"`
	EnvVariable string       `json:"env_variable"`
	Min         *float64     `json:"min"`
	Max         *float64     `json:"max"`
	Default     any          `json:"default"`
	Regex       string       `json:"regex"`
	Options     []formOption `json:"options"`
}

type formOption struct {
	Label string `json:"label"`
	Value any    `json:"value"`
}

func (t *translator) runtipiMeta(c tipiConfig) {
	m := &t.meta
	m.id, m.title, m.tagline, m.description = c.ID, c.Name, c.ShortDesc, c.Description
	m.author, m.website, m.version = c.Author, c.Website, c.Version
	if m.website == "" {
		m.website = c.Source
	}
	if len(c.Categories) > 0 {
		m.category = c.Categories[0]
	}
	m.architectures = c.Architecture
	m.webPort = c.Port.String()
	m.webPath = c.URLSuffix
	m.httpsBackend = c.HTTPS
	m.fields = c.FormFields
	if desc, ok, _ := t.src.read("metadata/description.md"); ok && m.description == "" {
		m.description = string(desc)
	}
	if _, err := strconv.Atoi(m.webPort); err != nil {
		m.webPort = ""
	}
}
