package compose

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

// stores are the app stores of testdata/appstores (see its README).
var stores = []string{"casaos", "bigbear"}

// minImported is the share of each store that must import (accepted, with
// or without permissions): issue 7's 95%. The stores reach 98.2% (CasaOS)
// and 96.3% (BigBear); what is left is refused for good (the summary's
// header counts the refusals by reason, docs/compose.md lists them).
const minImported = 0.95

// TestStores imports every app of both stores, compares the outcome of
// each with testdata/summary.golden, and checks the share that imports.
func TestStores(t *testing.T) {
	var lines, header []string
	for _, store := range stores {
		dirs, err := filepath.Glob(filepath.Join("testdata", "appstores", store, "Apps", "*"))
		if err != nil || len(dirs) == 0 {
			t.Fatalf("no apps in store %s: %v", store, err)
		}
		sort.Strings(dirs)
		plans := importAll(t, dirs)
		imported := 0
		reasons := map[string]int{}
		for i, p := range plans {
			if p.Refused == nil {
				imported++
				if p.Manifest == nil {
					t.Errorf("%s: accepted without a manifest", dirs[i])
				}
			} else {
				reasons[refusalClass(p.Refused)]++
			}
			lines = append(lines, store+"/"+filepath.Base(dirs[i])+": "+summary(p))
		}
		share := float64(imported) / float64(len(dirs))
		header = append(header, fmt.Sprintf("# %s: %d of %d apps import (%.1f%%); refused: %s", store, imported, len(dirs), 100*share, classes(reasons)))
		if share < minImported {
			t.Errorf("store %s: %d of %d apps import (%.1f%%), want at least %.0f%%", store, imported, len(dirs), 100*share, 100*minImported)
		}
	}
	golden(t, "summary.golden", []byte(strings.Join(header, "\n")+"\n"+strings.Join(lines, "\n")+"\n"))
}

// importAll imports the apps on two workers; a failed import fails the test.
func importAll(t *testing.T, dirs []string) []*Plan {
	t.Helper()
	plans := make([]*Plan, len(dirs))
	errs := make([]error, len(dirs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(2, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				plans[i], errs[i] = Import(context.Background(), dirs[i], Options{})
			}
		}()
	}
	for i := range dirs {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Import(%s): %v", dirs[i], err)
		}
	}
	return plans
}

// refusalClass names the kind of a refusal for the summary's header.
func refusalClass(r *Refusal) string {
	for _, c := range []struct{ match, class string }{
		{"is never mounted", "host path"},
		{"read-only only", "host path"},
		{"a host path Hearth cannot place", "host path"},
		{"may not mount over", "host path"},
		{"device allowlist", "device"},
		{"not a Linux capability", "capability"},
		{"is external", "external file"},
	} {
		if strings.Contains(r.Reason, c.match) || r.Key == c.match {
			return c.class
		}
	}
	return "other"
}

func classes(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}
