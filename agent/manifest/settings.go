package manifest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Values maps setting ids to values, all as strings ("true", "42", ...).
type Values map[string]string

var numberPattern = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)

// Limits of setting values, in bytes.
const (
	maxValueLine = 1024
	maxValueText = 64 << 10
)

// ResolveSettings returns a value for every setting: the given one, else the
// default, else (for a secret) one made by gen, else "" for an optional
// setting. gen nil means GenerateSecret. A given value for a secret is kept
// (so an update keeps what install generated). Every problem is a
// *SettingError naming the setting, all of them joined: an unknown id, a
// required setting without a value, a value of the wrong type.
func (m *Manifest) ResolveSettings(given Values, gen func(Setting) (string, error)) (Values, error) {
	if gen == nil {
		gen = GenerateSecret
	}
	var errs []error
	out := make(Values, len(m.Settings))
	for _, id := range sortedKeys(given) {
		if !slices.ContainsFunc(m.Settings, func(s Setting) bool { return s.ID == id }) {
			errs = append(errs, &SettingError{Setting: id, Reason: "this app has no such setting"})
		}
	}
	for _, s := range m.Settings {
		v, ok := given[s.ID]
		switch {
		case ok && v != "":
		case s.Type == TypeSecret:
			g, err := gen(s)
			if err != nil {
				errs = append(errs, &SettingError{Setting: s.ID, Reason: "cannot generate: " + err.Error()})
				continue
			}
			if reason := s.Generate.check(g); reason != "" {
				errs = append(errs, &SettingError{Setting: s.ID, Reason: "the generated value " + reason})
				continue
			}
			v = g
		case s.Default != nil:
			v = s.Default.Text
		case s.Required:
			errs = append(errs, &SettingError{Setting: s.ID, Reason: "is required"})
			continue
		default:
			out[s.ID] = ""
			continue
		}
		if err := s.Check(v); err != nil {
			errs = append(errs, &SettingError{Setting: s.ID, Reason: err.Error()})
			continue
		}
		out[s.ID] = v
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// Check says why v is not an acceptable value of s (the error's text is the
// reason, without the setting's id), or returns nil.
func (s *Setting) Check(v string) error {
	if reason := s.valueReason(v); reason != "" {
		return errors.New(reason)
	}
	return nil
}

func (s *Setting) valueReason(v string) string {
	if !utf8.ValidString(v) {
		return "is not valid UTF-8"
	}
	if s.Type == TypeText {
		if len(v) > maxValueText {
			return fmt.Sprintf("is %d bytes long, more than %d", len(v), maxValueText)
		}
		if strings.IndexFunc(v, func(r rune) bool { return isControl(r) && r != '\n' && r != '\t' && r != '\r' }) >= 0 {
			return "must not hold control characters other than newlines and tabs"
		}
		return ""
	}
	if len(v) > maxValueLine {
		return fmt.Sprintf("is %d bytes long, more than %d", len(v), maxValueLine)
	}
	if strings.IndexFunc(v, isControl) >= 0 {
		return "must be one line without control characters"
	}
	switch s.Type {
	case TypeString, TypePassword:
		if s.Pattern != "" {
			re, err := regexp.Compile(`^(?:` + s.Pattern + `)$`)
			if err != nil {
				return "the setting's pattern does not compile"
			}
			if !re.MatchString(v) {
				return fmt.Sprintf("does not match the pattern %s", s.Pattern)
			}
		}
	case TypeNumber:
		if !numberPattern.MatchString(v) {
			return fmt.Sprintf("%q is not a decimal number", v)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Sprintf("%q is out of range", v)
		}
		if s.Min != nil && f < *s.Min {
			return fmt.Sprintf("%s is less than the minimum %s", v, formatFloat(*s.Min))
		}
		if s.Max != nil && f > *s.Max {
			return fmt.Sprintf("%s is more than the maximum %s", v, formatFloat(*s.Max))
		}
	case TypeBoolean:
		if v != "true" && v != "false" {
			return fmt.Sprintf("%q must be true or false", v)
		}
	case TypeEmail:
		a, err := mail.ParseAddress(v)
		if err != nil || a.Name != "" || a.Address != v || len(v) > 254 {
			return fmt.Sprintf("%q is not an email address (user@example.net)", v)
		}
	case TypeURL:
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(v, " \\") {
			return fmt.Sprintf("%q is not an http or https URL", v)
		}
	case TypeChoice:
		if !slices.Contains(s.Choices, v) {
			return fmt.Sprintf("%q is not one of %s", v, strings.Join(s.Choices, ", "))
		}
	case TypeSecret:
	default:
		return fmt.Sprintf("the setting's type %q is unknown", s.Type)
	}
	return ""
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// alphabet returns the characters of a charset, or "" for an unknown one.
func alphabet(charset string) string {
	const digits, lower, upper = "0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	switch charset {
	case CharsetAlnum:
		return upper + lower + digits
	case CharsetHex:
		return digits + "abcdef"
	case CharsetBase64URL:
		return upper + lower + digits + "-_"
	}
	return ""
}

// check says why v is not what g generates, or "".
func (g *Generate) check(v string) string {
	if g == nil {
		return "cannot be checked: the setting has no generate"
	}
	if len(v) != g.Length {
		return fmt.Sprintf("has %d characters, not %d", len(v), g.Length)
	}
	a := alphabet(g.Charset)
	for _, r := range v {
		if !strings.ContainsRune(a, r) {
			return fmt.Sprintf("holds %q, outside the %s charset", r, g.Charset)
		}
	}
	return ""
}

// GenerateSecret makes a value for a secret setting from crypto/rand:
// s.Generate.Length characters drawn uniformly from its charset.
func GenerateSecret(s Setting) (string, error) {
	if s.Generate == nil {
		return "", fmt.Errorf("setting %s has no generate", s.ID)
	}
	a := alphabet(s.Generate.Charset)
	if a == "" || s.Generate.Length < 1 || s.Generate.Length > maxValueLine {
		return "", fmt.Errorf("setting %s: cannot generate %d characters of charset %q", s.ID, s.Generate.Length, s.Generate.Charset)
	}
	b := make([]byte, s.Generate.Length)
	n := big.NewInt(int64(len(a)))
	for i := range b {
		x, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", fmt.Errorf("setting %s: read random bytes: %w", s.ID, err)
		}
		b[i] = a[x.Int64()]
	}
	return string(b), nil
}
