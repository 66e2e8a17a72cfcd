package compose

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"
)

// doc is the main compose file as YAML nodes, for what compose-go does not
// keep: line numbers, the order of services, and the few edits made before
// loading (the obsolete "version" key, Umbrel's app_proxy service).
type doc struct {
	top *yaml.Node // the top-level mapping
}

var yamlLine = regexp.MustCompile(`line ([0-9]+)`)

// parseDoc parses a compose file. A malformed file is a Refusal naming the
// line when the parser gives it.
func parseDoc(name string, data []byte) (*doc, *Refusal) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Refusal{File: name, Reason: "the file is empty"}
		}
		return nil, yamlRefusal(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Refusal{File: name, Line: extra.Line, Reason: "holds several YAML documents; a compose file has one"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlRefusal(name, err)
	}
	if n.Kind != yaml.DocumentNode || len(n.Content) != 1 || n.Content[0].Kind != yaml.MappingNode {
		return nil, &Refusal{File: name, Line: n.Line, Reason: "the top level must be a mapping (services: ...)"}
	}
	return &doc{top: n.Content[0]}, nil
}

func yamlRefusal(name string, err error) *Refusal {
	r := &Refusal{File: name, Reason: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		r.Line, _ = strconv.Atoi(m[1])
	}
	return r
}

// bytes encodes the (edited) document again.
func (d *doc) bytes() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{d.top}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// mapGet returns the value of key in mapping m, or nil.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// mapKeyNode returns the key node of key in mapping m, or nil.
func mapKeyNode(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

// mapDelete removes key from mapping m and returns its value, or nil.
func mapDelete(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return v
		}
	}
	return nil
}

// mapKeys returns the keys of mapping m, in order.
func mapKeys(m *yaml.Node) []string {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	keys := make([]string, 0, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		keys = append(keys, m.Content[i].Value)
	}
	return keys
}

// services returns the services mapping, or nil.
func (d *doc) services() *yaml.Node { return mapGet(d.top, "services") }

// serviceOrder returns the service names in the order the file writes them.
func (d *doc) serviceOrder() []string { return mapKeys(d.services()) }

var keyPart = regexp.MustCompile(`[^.\[\]]+|\[[0-9]+\]`)

// line returns the line of key (such as "volumes[1]" or "deploy.resources")
// in service, of the service itself when key is not there, or 0.
func (d *doc) line(service, key string) int {
	n := mapKeyNode(d.services(), service)
	if n == nil {
		if k := mapKeyNode(d.top, strings.SplitN(key, ".", 2)[0]); k != nil && service == "" {
			return k.Line
		}
		return 0
	}
	best := n.Line
	cur := mapGet(d.services(), service)
	for _, part := range keyPart.FindAllString(key, -1) {
		switch {
		case strings.HasPrefix(part, "["):
			i, _ := strconv.Atoi(strings.Trim(part, "[]"))
			if cur == nil || cur.Kind != yaml.SequenceNode || i >= len(cur.Content) {
				return best
			}
			cur = cur.Content[i]
			best = cur.Line
		default:
			k := mapKeyNode(cur, part)
			if k == nil {
				return best
			}
			best = k.Line
			cur = mapGet(cur, part)
		}
	}
	return best
}

// scalarStrings returns the string values of a sequence of scalars, or of
// a mapping's values written KEY=VALUE, as compose lists are written both
// ways (environment, labels).
func scalarStrings(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	var out []string
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if c.Kind == yaml.ScalarNode {
				out = append(out, c.Value)
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, n.Content[i].Value+"="+n.Content[i+1].Value)
		}
	}
	return out
}
