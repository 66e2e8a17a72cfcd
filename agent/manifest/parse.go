package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// MaxSize is the largest manifest Parse reads, in bytes.
const MaxSize = 256 << 10

// Parse reads a manifest strictly and validates it. It reports, as errors
// matching ErrInvalid: malformed JSON (a *SyntaxError with line and column);
// otherwise every structural problem at once (unknown fields, with a
// suggestion; nulls; wrong JSON types; duplicate keys), each a *FieldError
// naming its path; otherwise every broken rule Validate finds.
func Parse(data []byte) (*Manifest, error) {
	if len(data) > MaxSize {
		return nil, &FieldError{Reason: fmt.Sprintf("the manifest is %d bytes, more than the %d allowed", len(data), MaxSize)}
	}
	root, dups, err := readTree(data)
	if err != nil {
		return nil, err
	}
	if root.kind != kindObject {
		return nil, &FieldError{Reason: fmt.Sprintf("the manifest must be a JSON object, not %s", kindName(root.kind))}
	}
	if err := errors.Join(append(dups, checkTree(root, reflect.TypeFor[Manifest]()))...); err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		// checkTree accepted the tree, so this is a bug of this package.
		return nil, &FieldError{Reason: "cannot decode: " + err.Error()}
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}
