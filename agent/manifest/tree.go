package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// jsonNumber is the grammar of a JSON number.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// maxDepth bounds the nesting of a manifest (the deepest real path,
// services.x.healthCheck.http.port, is 5 levels down).
const maxDepth = 16

type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// node is one JSON value, keeping object members in order.
type node struct {
	kind    kind
	text    string // a string's value, a number's digits, "true"/"false"
	items   []*node
	members []member
}

type member struct {
	key string
	val *node
}

// reader turns JSON into a tree of nodes, noting duplicate keys and refusing
// deep nesting.
type reader struct {
	data []byte
	dec  *json.Decoder
	errs errList
}

// readTree returns the tree (keeping the first of duplicate keys) and the
// joined duplicate-key errors, or a *SyntaxError.
func readTree(data []byte) (*node, []error, error) {
	r := &reader{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	// The decoder's token errors carry offsets relative to different starts;
	// a full scan first gives one absolute offset for any syntax error.
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, nil, r.syntaxErr(err)
	}
	r.dec.UseNumber()
	root, err := r.value("", 0)
	if err != nil {
		return nil, nil, err
	}
	return root, r.errs.errs, nil
}

// syntaxErr turns json.Unmarshal's error into a SyntaxError.
func (r *reader) syntaxErr(err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return r.syntax(0, err.Error())
	}
	off, reason := se.Offset-1, strings.TrimPrefix(se.Error(), "json: ")
	switch {
	case strings.HasSuffix(reason, "after top-level value"):
		reason = "only one JSON value is allowed"
	case strings.HasPrefix(reason, "unexpected end of JSON input"):
		off, reason = int64(len(r.data)), "unexpected end of input"
	}
	return r.syntax(max(off, 0), reason)
}

// syntax makes a SyntaxError at byte offset off.
func (r *reader) syntax(off int64, reason string) error {
	off = min(off, int64(len(r.data)))
	line, col := 1, 1
	for _, b := range r.data[:off] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &SyntaxError{Line: line, Column: col, Reason: reason}
}

// tokenErr reports an error of the token walk, which the full scan should
// have found first.
func (r *reader) tokenErr(err error) error {
	return r.syntax(r.dec.InputOffset(), err.Error())
}

func (r *reader) value(path string, depth int) (*node, error) {
	start := r.dec.InputOffset()
	tok, err := r.dec.Token()
	if err != nil {
		return nil, r.tokenErr(err)
	}
	if depth > maxDepth {
		return nil, r.syntax(start, fmt.Sprintf("nested deeper than %d levels", maxDepth))
	}
	switch t := tok.(type) {
	case nil:
		return &node{kind: kindNull}, nil
	case bool:
		if t {
			return &node{kind: kindBool, text: "true"}, nil
		}
		return &node{kind: kindBool, text: "false"}, nil
	case json.Number:
		return &node{kind: kindNumber, text: t.String()}, nil
	case string:
		return &node{kind: kindString, text: t}, nil
	case json.Delim:
		switch t {
		case '[':
			n := &node{kind: kindArray}
			for r.dec.More() {
				item, err := r.value(index(path, len(n.items)), depth+1)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, item)
			}
			if _, err := r.dec.Token(); err != nil {
				return nil, r.tokenErr(err)
			}
			return n, nil
		case '{':
			n := &node{kind: kindObject}
			seen := map[string]bool{}
			for r.dec.More() {
				kt, err := r.dec.Token()
				if err != nil {
					return nil, r.tokenErr(err)
				}
				k, _ := kt.(string)
				val, err := r.value(key(path, k), depth+1)
				if err != nil {
					return nil, err
				}
				if seen[k] {
					r.errs.add(key(path, k), "appears more than once")
					continue
				}
				seen[k] = true
				n.members = append(n.members, member{key: k, val: val})
			}
			if _, err := r.dec.Token(); err != nil {
				return nil, r.tokenErr(err)
			}
			return n, nil
		}
	}
	return nil, r.syntax(start, fmt.Sprintf("unexpected %v", tok))
}
