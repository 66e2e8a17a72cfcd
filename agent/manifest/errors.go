package manifest

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

// Sentinel errors. Every error of this package matches exactly one of them
// with errors.Is.
var (
	// ErrInvalid: the manifest is malformed or breaks a rule. The details are
	// *FieldError and *SyntaxError values, joined.
	ErrInvalid = errors.New("invalid manifest")
	// ErrSetting: a setting's value (given by the owner, a default or a
	// generator) is unacceptable. The details are *SettingError values.
	ErrSetting = errors.New("invalid setting value")
	// ErrTemplate: a {{...}} reference cannot be expanded. The details are
	// *TemplateError values.
	ErrTemplate = errors.New("bad template reference")
)

// FieldError names the JSON path of a bad field of a manifest
// ("services.web.volumes[1].target") and why it is bad.
type FieldError struct {
	Path   string
	Reason string
}

// Error returns "path: reason", or the reason alone for the whole manifest.
func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// Is makes every FieldError match ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// SyntaxError is malformed JSON, at a 1-based line and column (in bytes).
type SyntaxError struct {
	Line, Column int
	Reason       string
}

// Error returns "line L, column C: reason".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Reason)
}

// Is makes every SyntaxError match ErrInvalid.
func (e *SyntaxError) Is(target error) bool { return target == ErrInvalid }

// SettingError names the setting whose value is unacceptable.
type SettingError struct {
	Setting string
	Reason  string
}

// Error returns "setting <id>: reason".
func (e *SettingError) Error() string { return "setting " + e.Setting + ": " + e.Reason }

// Is makes every SettingError match ErrSetting.
func (e *SettingError) Is(target error) bool { return target == ErrSetting }

// TemplateError names the {{...}} reference that cannot be expanded.
type TemplateError struct {
	Ref    string
	Reason string
}

// Error returns "{{ref}}: reason".
func (e *TemplateError) Error() string { return "{{" + e.Ref + "}}: " + e.Reason }

// Is makes every TemplateError match ErrTemplate.
func (e *TemplateError) Is(target error) bool { return target == ErrTemplate }

// errList collects field errors; its err is nil when there are none.
type errList struct{ errs []error }

func (l *errList) add(path, format string, args ...any) {
	l.errs = append(l.errs, &FieldError{Path: path, Reason: fmt.Sprintf(format, args...)})
}

func (l *errList) err() error { return errors.Join(l.errs...) }

// simpleKey is a map key that can follow a dot in a path.
var simpleKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// key appends a map key or struct field to a path: "a.b", or a["linux/amd64"]
// when the key needs quoting.
func key(path, k string) string {
	if !simpleKey.MatchString(k) {
		return path + "[" + strconv.Quote(k) + "]"
	}
	if path == "" {
		return k
	}
	return path + "." + k
}

// index appends a list index to a path: "a[3]".
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }
