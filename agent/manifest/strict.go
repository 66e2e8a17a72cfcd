package manifest

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// jsonChecker is implemented by the types that read JSON their own way
// (Size, Duration, Scalar): checkJSON returns why n is unacceptable, or "".
type jsonChecker interface {
	checkJSON(n *node) string
}

// checkTree compares a JSON tree with the Go type it will be decoded into,
// so that json.Unmarshal cannot fail afterwards and every unknown field,
// null or wrongly typed value is named by its path.
func checkTree(root *node, t reflect.Type) error {
	var l errList
	checkNode(&l, "", t, root)
	return l.err()
}

var checkerType = reflect.TypeFor[jsonChecker]()

func checkNode(l *errList, path string, t reflect.Type, n *node) {
	if n.kind == kindNull {
		l.add(path, "must not be null (leave the field out instead)")
		return
	}
	if reflect.PointerTo(t).Implements(checkerType) {
		if reason := reflect.New(t).Interface().(jsonChecker).checkJSON(n); reason != "" {
			l.add(path, "%s", reason)
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		checkNode(l, path, t.Elem(), n)
	case reflect.Struct:
		if n.kind != kindObject {
			l.add(path, "must be an object, not %s", kindName(n.kind))
			return
		}
		fields := jsonFields(t)
		for _, m := range n.members {
			f, ok := fields[m.key]
			if !ok {
				l.add(key(path, m.key), "unknown field%s", suggest(m.key, fields))
				continue
			}
			checkNode(l, key(path, m.key), f, m.val)
		}
	case reflect.Map:
		if n.kind != kindObject {
			l.add(path, "must be an object, not %s", kindName(n.kind))
			return
		}
		for _, m := range n.members {
			checkNode(l, key(path, m.key), t.Elem(), m.val)
		}
	case reflect.Slice:
		if n.kind != kindArray {
			l.add(path, "must be a list, not %s", kindName(n.kind))
			return
		}
		for i, item := range n.items {
			checkNode(l, index(path, i), t.Elem(), item)
		}
	case reflect.String:
		if n.kind != kindString {
			l.add(path, "must be a string, not %s", kindName(n.kind))
		}
	case reflect.Bool:
		if n.kind != kindBool {
			l.add(path, "must be true or false, not %s", kindName(n.kind))
		}
	case reflect.Int, reflect.Int64:
		if n.kind != kindNumber {
			l.add(path, "must be a whole number, not %s", kindName(n.kind))
		} else if v, err := strconv.ParseInt(n.text, 10, 64); err != nil || v < math.MinInt32 || v > math.MaxInt32 {
			l.add(path, "must be a whole number between %d and %d, not %s", math.MinInt32, math.MaxInt32, n.text)
		}
	case reflect.Float64:
		if n.kind != kindNumber {
			l.add(path, "must be a number, not %s", kindName(n.kind))
		} else if v, err := strconv.ParseFloat(n.text, 64); err != nil || math.IsInf(v, 0) {
			l.add(path, "%s is out of range", n.text)
		}
	default:
		// Every field type of Manifest is handled above; a new one must be
		// added there (the tests of every valid manifest would fail).
		l.add(path, "cannot be read into %v", t)
	}
}

// jsonFields maps the JSON names of a struct's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	return m
}

func kindName(k kind) string {
	return [...]string{kindNull: "null", kindBool: "a boolean", kindNumber: "a number", kindString: "a string",
		kindArray: "a list", kindObject: "an object"}[k]
}

// suggest names the known field closest to an unknown one, or lists the
// known fields when there are few.
func suggest(k string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	best, bestDist := "", 3
	for _, n := range names {
		d := editDistance(strings.ToLower(k), strings.ToLower(n))
		if d < bestDist {
			best, bestDist = n, d
		}
	}
	switch {
	case best != "":
		return fmt.Sprintf(" (did you mean %q?)", best)
	case len(names) == 0:
		return " (this object has no fields)"
	case len(names) <= 8:
		return " (known: " + strings.Join(names, ", ") + ")"
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
