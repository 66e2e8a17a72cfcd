package manifest

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// docExamples returns the ```json blocks of docs/manifest.md that hold a
// whole manifest.
func docExamples(t *testing.T) [][]byte {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, "../../docs/manifest.md")))
	var out [][]byte
	var cur *bytes.Buffer
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```json":
			cur = &bytes.Buffer{}
		case cur != nil && strings.TrimSpace(line) == "```":
			if bytes.Contains(cur.Bytes(), []byte(`"manifestVersion"`)) {
				out = append(out, cur.Bytes())
			}
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDocsExamples parses every example manifest of docs/manifest.md and
// compares what it means with testdata/docs_<id>.golden.
func TestDocsExamples(t *testing.T) {
	examples := docExamples(t)
	if len(examples) < 2 {
		t.Fatalf("got %d example manifests in docs/manifest.md, want at least 2", len(examples))
	}
	var multi bool
	for _, ex := range examples {
		m, err := Parse(ex)
		if err != nil {
			t.Errorf("Parse: got %v, want no error, for:\n%s", err, ex)
			continue
		}
		multi = multi || len(m.Services) > 1
		t.Run(m.ID, func(t *testing.T) {
			golden(t, "docs_"+m.ID, summarize(t, m))
			roundTrip(t, m)
		})
	}
	if !multi {
		t.Errorf("got no example with two services, want one")
	}
}
