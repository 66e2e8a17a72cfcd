package manifest

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var settingIDPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// Limits of a setting's declaration.
const (
	maxSettingID    = 64
	maxPattern      = 512
	minSecretLength = 16
	maxSecretLength = 1024
	maxChoices      = 100
)

func (m *Manifest) validateSettings(l *errList) {
	if len(m.Settings) > maxSettings {
		l.add("settings", "has %d settings, more than %d", len(m.Settings), maxSettings)
	}
	for i, s := range m.Settings {
		p := index("settings", i)
		switch {
		case s.ID == "":
			l.add(p+".id", "is required")
		case len(s.ID) > maxSettingID || !settingIDPattern.MatchString(s.ID):
			l.add(p+".id", "%q must be snake_case (a-z, 0-9 and single '_'), starting with a letter, at most %d characters", s.ID, maxSettingID)
		case slices.IndexFunc(m.Settings, func(t Setting) bool { return t.ID == s.ID }) < i:
			l.add(p+".id", "%q is used by an earlier setting", s.ID)
		}
		requiredLine(l, p+".label", s.Label, maxTagline)
		if len(s.Description) > 1024 {
			l.add(p+".description", "is %d bytes long, more than 1024", len(s.Description))
		} else {
			markdown(l, p+".description", s.Description)
		}
		if !slices.Contains(SettingTypes(), s.Type) {
			l.add(p+".type", "%q is not one of %s", s.Type, joinTypes())
			continue // the rest depends on the type
		}
		validateSettingOptions(l, p, s)
	}
}

func joinTypes() string {
	var t []string
	for _, x := range SettingTypes() {
		t = append(t, string(x))
	}
	return strings.Join(t, ", ")
}

// validateSettingOptions checks the fields that belong to some types only.
func validateSettingOptions(l *errList, p string, s Setting) {
	only := func(field string, set bool, types ...SettingType) {
		if set && !slices.Contains(types, s.Type) {
			l.add(p+"."+field, "applies only to settings of type %s", joinSettingTypes(types))
		}
	}
	only("choices", s.Choices != nil, TypeChoice)
	only("min", s.Min != nil, TypeNumber)
	only("max", s.Max != nil, TypeNumber)
	only("pattern", s.Pattern != "", TypeString, TypePassword)
	only("generate", s.Generate != nil, TypeSecret)

	patternOK := true
	if s.Pattern != "" {
		if len(s.Pattern) > maxPattern {
			l.add(p+".pattern", "is %d bytes long, more than %d", len(s.Pattern), maxPattern)
			patternOK = false
		} else if _, err := regexp.Compile(`^(?:` + s.Pattern + `)$`); err != nil {
			l.add(p+".pattern", "is not an RE2 regular expression: %v", err)
			patternOK = false
		}
	}
	if s.Type == TypeChoice {
		if len(s.Choices) == 0 {
			l.add(p+".choices", "is required for a choice: list at least one value")
		} else if len(s.Choices) > maxChoices {
			l.add(p+".choices", "has %d values, more than %d", len(s.Choices), maxChoices)
		}
		for j, c := range s.Choices {
			cp := index(p+".choices", j)
			if c == "" {
				l.add(cp, "must not be empty")
			} else if reason := lineReason(c, maxLine); reason != "" {
				l.add(cp, "%s", reason)
			} else if slices.Index(s.Choices, c) < j {
				l.add(cp, "%q is listed twice", c)
			}
		}
	}
	boundsOK := true
	if s.Min != nil && s.Max != nil && *s.Min > *s.Max {
		l.add(p+".max", "%s is less than min %s", formatFloat(*s.Max), formatFloat(*s.Min))
		boundsOK = false
	}
	if s.Type == TypeSecret {
		if s.Required {
			l.add(p+".required", "a secret is always generated, so it cannot be required")
		}
		if s.Default != nil {
			l.add(p+".default", "a secret has no default: it is generated for each install")
		}
		switch g := s.Generate; {
		case g == nil:
			l.add(p+".generate", "is required for a secret (length and charset)")
		default:
			if g.Length < minSecretLength || g.Length > maxSecretLength {
				l.add(p+".generate.length", "%d must be between %d and %d", g.Length, minSecretLength, maxSecretLength)
			}
			if alphabet(g.Charset) == "" {
				l.add(p+".generate.charset", "%q must be alnum, hex or base64url", g.Charset)
			}
		}
		return
	}
	if d := s.Default; d != nil && patternOK && boundsOK {
		want := ScalarString
		switch s.Type {
		case TypeNumber:
			want = ScalarNumber
		case TypeBoolean:
			want = ScalarBoolean
		}
		if d.Kind != want {
			l.add(p+".default", "must be a JSON %s for a setting of type %s", want, s.Type)
		} else if err := s.Check(d.Text); err != nil {
			l.add(p+".default", "%v", err)
		}
	}
}

func joinSettingTypes(ts []SettingType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = strconv.Quote(string(t))
	}
	return strings.Join(s, " or ")
}
