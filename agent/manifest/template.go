package manifest

import (
	"fmt"
	"strings"
)

// AppContext is what the {{app.*}} and {{services.*}} references of an
// installed app expand to. The agent fills it.
type AppContext struct {
	// Domain is the app's host name ("photos.example.net").
	Domain string
	// URL is the app's address ("https://photos.example.net").
	URL string
	// DataDir is the app's data folder.
	DataDir string
	// Hosts maps a service name to the host name other containers of the app
	// reach it by; a service missing from it is reached by its own name.
	Hosts map[string]string
}

// The references {{...}} may hold; "{{" opens one, "}}" closes it, spaces
// inside are ignored, and {{"{{"}} writes a literal "{{".
const (
	refSettings = "settings."
	refServices = "services."
	refHostTail = ".host"
	refLiteral  = `"{{"`
)

// appRefs are the {{app.*}} references.
func appRefs(a AppContext) map[string]string {
	return map[string]string{"app.domain": a.Domain, "app.url": a.URL, "app.dataDir": a.DataDir}
}

// Expand replaces the {{...}} references of s: {{settings.<id>}} with v[id],
// {{app.domain}}, {{app.url}}, {{app.dataDir}} and
// {{services.<name>.host}} from app. An unknown reference, a setting without
// a value or an empty app field is a *TemplateError naming the reference.
func (m *Manifest) Expand(s string, v Values, app AppContext) (string, error) {
	apps := appRefs(app)
	return m.expand(s, func(ref string) (string, error) {
		if val, ok := apps[ref]; ok {
			if val == "" {
				return "", &TemplateError{Ref: ref, Reason: "is not known for this app"}
			}
			return val, nil
		}
		if id, ok := strings.CutPrefix(ref, refSettings); ok {
			val, ok := v[id]
			if !ok {
				return "", &TemplateError{Ref: ref, Reason: "the setting has no value (resolve the settings first)"}
			}
			return val, nil
		}
		name, _ := strings.CutPrefix(ref, refServices)
		name, _ = strings.CutSuffix(name, refHostTail)
		if h := app.Hosts[name]; h != "" {
			return h, nil
		}
		return name, nil
	})
}

// checkTemplate reports the first bad reference of s, without values.
func (m *Manifest) checkTemplate(s string) error {
	_, err := m.expand(s, func(string) (string, error) { return "", nil })
	return err
}

// expand scans s, checks each reference against the manifest and asks
// lookup for its value.
func (m *Manifest) expand(s string, lookup func(ref string) (string, error)) (string, error) {
	var b strings.Builder
	for {
		open := strings.Index(s, "{{")
		if open < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:open])
		rest := s[open+2:]
		end := strings.Index(rest, "}}")
		if end < 0 {
			return "", &TemplateError{Ref: strings.TrimSpace(rest), Reason: `is not closed with "}}" (write {{"{{"}} for a literal "{{")`}
		}
		ref := strings.Trim(rest[:end], " ")
		s = rest[end+2:]
		if ref == refLiteral {
			b.WriteString("{{")
			continue
		}
		if err := m.checkRef(ref); err != nil {
			return "", err
		}
		val, err := lookup(ref)
		if err != nil {
			return "", err
		}
		b.WriteString(val)
	}
}

// checkRef says whether ref names something that exists in the manifest.
func (m *Manifest) checkRef(ref string) error {
	if _, ok := appRefs(AppContext{})[ref]; ok {
		return nil
	}
	if id, ok := strings.CutPrefix(ref, refSettings); ok {
		for _, st := range m.Settings {
			if st.ID == id {
				return nil
			}
		}
		return &TemplateError{Ref: ref, Reason: fmt.Sprintf("no setting has the id %q", id)}
	}
	if rest, ok := strings.CutPrefix(ref, refServices); ok {
		name, ok := strings.CutSuffix(rest, refHostTail)
		if !ok {
			return &TemplateError{Ref: ref, Reason: "unknown reference: a service offers only .host"}
		}
		if _, ok := m.Services[name]; !ok {
			return &TemplateError{Ref: ref, Reason: fmt.Sprintf("no service is named %q", name)}
		}
		return nil
	}
	return &TemplateError{Ref: ref, Reason: "unknown reference (known: settings.<id>, app.domain, app.url, app.dataDir, services.<name>.host)"}
}
