package compose

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/hearthbox/hearth/agent/manifest"
)

// formVariables turns Runtipi's form fields into settings, and returns
// which variable each one fills.
func (t *translator) formVariables() map[string]string {
	vars := map[string]string{}
	for i, f := range t.meta.fields {
		key := fmt.Sprintf("form_fields[%d]", i)
		if !envName.MatchString(f.EnvVariable) {
			t.warn("", key, "env_variable %q is not a variable name: the field is left out", f.EnvVariable)
			continue
		}
		if _, dup := vars[f.EnvVariable]; dup {
			continue
		}
		t.secrets.mu.Lock()
		id := t.secrets.newID(f.EnvVariable)
		st := t.formSetting(key, id, f)
		t.secrets.list = append(t.secrets.list, st)
		t.secrets.byVar["$"+f.EnvVariable] = id
		t.secrets.mu.Unlock()
		vars[f.EnvVariable] = id
	}
	return vars
}

// formSetting maps one form field; what does not fit Hearth's setting
// rules (a bad default, a pattern RE2 does not read) is left out with a
// warning.
func (t *translator) formSetting(key, id string, f formField) manifest.Setting {
	st := manifest.Setting{ID: id, Label: label(firstNonEmpty(f.Label, f.EnvVariable)), Required: f.Required}
	if len(f.Hint) <= 1024 {
		st.Description = f.Hint
	}
	switch f.Type {
	case "password":
		st.Type = manifest.TypePassword
	case "random":
		st.Type, st.Required = manifest.TypeSecret, false
		n := 32
		if f.Min != nil && *f.Min >= 16 && *f.Min <= 1024 {
			n = int(*f.Min)
		}
		st.Generate = &manifest.Generate{Length: n, Charset: manifest.CharsetAlnum}
	case "email":
		st.Type = manifest.TypeEmail
	case "number":
		st.Type, st.Min, st.Max = manifest.TypeNumber, f.Min, f.Max
	case "boolean":
		st.Type = manifest.TypeBoolean
	case "url":
		st.Type = manifest.TypeURL
	default: // text, fqdn, ip, fqdnip and what is new
		st.Type = manifest.TypeString
	}
	if len(f.Options) > 0 && st.Type == manifest.TypeString {
		st.Type = manifest.TypeChoice
		for _, o := range f.Options {
			st.Choices = append(st.Choices, fmt.Sprint(o.Value))
		}
	}
	if f.Regex != "" && (st.Type == manifest.TypeString || st.Type == manifest.TypePassword) {
		if _, err := regexp.Compile(f.Regex); err == nil {
			st.Pattern = f.Regex
		} else {
			t.warn("", key+".regex", "%q is not an RE2 expression: the value is not checked", f.Regex)
		}
	}
	if f.Default != nil && st.Type != manifest.TypeSecret {
		d := scalarOf(st.Type, f.Default)
		if st.Default = &d; st.Check(d.Text) != nil {
			t.warn("", key+".default", "%v does not fit the field: no default", f.Default)
			st.Default = nil
		}
	}
	return st
}

// scalarOf writes a JSON default as a manifest Scalar of the setting's type.
func scalarOf(typ manifest.SettingType, v any) manifest.Scalar {
	s := fmt.Sprint(v)
	switch typ {
	case manifest.TypeNumber:
		if f, ok := v.(float64); ok {
			s = strconv.FormatFloat(f, 'f', -1, 64)
		}
		return manifest.Scalar{Kind: manifest.ScalarNumber, Text: s}
	case manifest.TypeBoolean:
		return manifest.Scalar{Kind: manifest.ScalarBoolean, Text: s}
	}
	return manifest.Scalar{Kind: manifest.ScalarString, Text: s}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
