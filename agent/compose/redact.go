package compose

import (
	"maps"
	"slices"
	"strings"

	"github.com/hearthbox/hearth/agent/manifest"
)

// RedactedValue is what a redacted value shows.
const RedactedValue = "<redacted>"

// Redacted returns a copy of the plan that is safe to print: environment
// values whose names say they hold a secret, and the passwords of URLs,
// are replaced by RedactedValue unless they are only references to settings
// (which hold no value until install). Import already turns the file's
// passwords into generated settings; this masks what its rules could not
// recognise as one.
func (p *Plan) Redacted() *Plan {
	q := *p
	q.Permissions = slices.Clone(p.Permissions)
	q.Warnings = slices.Clone(p.Warnings)
	if p.Refused != nil {
		r := *p.Refused
		q.Refused = &r
	}
	if p.Manifest == nil {
		return &q
	}
	m := *p.Manifest
	m.Services = make(map[string]manifest.Service, len(p.Manifest.Services))
	for name, s := range p.Manifest.Services {
		s.Environment = maps.Clone(s.Environment)
		for k, v := range s.Environment {
			s.Environment[k] = redactValue(k, v)
		}
		m.Services[name] = s
	}
	q.Manifest = &m
	return &q
}

// redactValue masks a secret's value, keeping references to settings.
func redactValue(key, v string) string {
	if secretName(key) && !flagValue(v) && strings.TrimSpace(v) != "" && !settingRef.MatchString(v) {
		return RedactedValue
	}
	return urlPassword.ReplaceAllStringFunc(v, func(m string) string {
		g := urlPassword.FindStringSubmatch(m)
		if settingRef.ReplaceAllString(g[2], "") == "" {
			return m
		}
		return g[1] + RedactedValue + "@"
	})
}
