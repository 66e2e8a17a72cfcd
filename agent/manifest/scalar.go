package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Size is a number of bytes, written in JSON as a string: plain bytes
// ("1048576") or an integer with an IEC unit ("512Ki", "256Mi", "1Gi", "2Ti").
type Size int64

// IEC units.
const (
	Ki Size = 1 << (10 * (iota + 1))
	Mi
	Gi
	Ti
)

// ParseSize reads a size: digits, optionally followed by Ki, Mi, Gi or Ti.
// Decimals, signs, spaces and SI units (K, M, MB...) are refused.
func ParseSize(s string) (int64, error) {
	digits := strings.TrimRight(s, "KMGTPEiBb")
	unit := s[len(digits):]
	if digits == "" {
		return 0, fmt.Errorf("size %q: want digits with an optional unit Ki, Mi, Gi or Ti", s)
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("size %q: want digits with an optional unit Ki, Mi, Gi or Ti (no signs, spaces or decimals)", s)
		}
	}
	if len(digits) > 1 && digits[0] == '0' {
		return 0, fmt.Errorf("size %q: leading zero", s)
	}
	var mult int64
	switch unit {
	case "":
		mult = 1
	case "Ki":
		mult = int64(Ki)
	case "Mi":
		mult = int64(Mi)
	case "Gi":
		mult = int64(Gi)
	case "Ti":
		mult = int64(Ti)
	default:
		return 0, fmt.Errorf("size %q: unit %q: use an IEC unit (Ki, Mi, Gi, Ti)", s, unit)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return n * mult, nil
}

// FormatSize writes n with the largest IEC unit that divides it exactly.
func FormatSize(n int64) string {
	for _, u := range []struct {
		name string
		size Size
	}{{"Ti", Ti}, {"Gi", Gi}, {"Mi", Mi}, {"Ki", Ki}} {
		if n != 0 && n%int64(u.size) == 0 {
			return strconv.FormatInt(n/int64(u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// String returns the size as FormatSize writes it.
func (s Size) String() string { return FormatSize(int64(s)) }

// MarshalJSON writes the size as a string.
func (s Size) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a string as ParseSize does.
func (s *Size) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return errors.New("a size must be a string such as \"256Mi\"")
	}
	n, err := ParseSize(str)
	if err != nil {
		return err
	}
	*s = Size(n)
	return nil
}

func (*Size) checkJSON(n *node) string {
	if n.kind != kindString {
		return "must be a string such as \"256Mi\""
	}
	if _, err := ParseSize(n.text); err != nil {
		return err.Error()
	}
	return ""
}

// Duration is a time.Duration written in JSON as a Go duration string
// ("30s", "1m30s"); it may not be negative.
type Duration time.Duration

// String returns the duration as time.Duration writes it.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return errors.New("a duration must be a string such as \"30s\"")
	}
	v, err := parseDuration(str)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a Go duration such as \"30s\" or \"1m30s\"", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("duration %q: must not be negative", s)
	}
	return v, nil
}

func (*Duration) checkJSON(n *node) string {
	if n.kind != kindString {
		return "must be a string such as \"30s\""
	}
	if _, err := parseDuration(n.text); err != nil {
		return err.Error()
	}
	return ""
}

// ScalarKind is the JSON type of a Scalar.
type ScalarKind string

// Scalar kinds.
const (
	ScalarString  ScalarKind = "string"
	ScalarNumber  ScalarKind = "number"
	ScalarBoolean ScalarKind = "boolean"
)

// Scalar is a JSON string, number or boolean, kept as its text: a number's
// digits as written, "true" or "false".
type Scalar struct {
	Kind ScalarKind
	Text string
}

// MarshalJSON writes the scalar back with its JSON type.
func (s Scalar) MarshalJSON() ([]byte, error) {
	switch s.Kind {
	case ScalarNumber:
		if _, err := strconv.ParseFloat(s.Text, 64); err != nil || !jsonNumber.MatchString(s.Text) {
			return nil, fmt.Errorf("scalar %q is not a JSON number", s.Text)
		}
		return []byte(s.Text), nil
	case ScalarBoolean:
		if s.Text != "true" && s.Text != "false" {
			return nil, fmt.Errorf("scalar %q is not a boolean", s.Text)
		}
		return []byte(s.Text), nil
	default:
		return json.Marshal(s.Text)
	}
}

// UnmarshalJSON reads a JSON string, number or boolean.
func (s *Scalar) UnmarshalJSON(b []byte) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	switch x := v.(type) {
	case string:
		*s = Scalar{Kind: ScalarString, Text: x}
	case json.Number:
		*s = Scalar{Kind: ScalarNumber, Text: x.String()}
	case bool:
		*s = Scalar{Kind: ScalarBoolean, Text: strconv.FormatBool(x)}
	default:
		return errors.New("must be a string, a number or a boolean")
	}
	return nil
}

func (*Scalar) checkJSON(n *node) string {
	switch n.kind {
	case kindString, kindNumber, kindBool:
		return ""
	}
	return "must be a string, a number or a boolean"
}
