// Package archtest holds the test that keeps Hearth's dependencies pointing
// one way (cmd -> agent -> runtime, proxy, ddns; web on its own interface)
// and the fixed import aliases of the packages that shadow the standard
// library. It has no code of its own.
package archtest

import (
	"bufio"
	"bytes"
	"context"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const module = "github.com/hearthbox/hearth"

// rule forbids packages under from to depend, even indirectly, on any
// package with one of the prefixes in deny, but those under allow.
type rule struct {
	from  string
	deny  []string
	allow []string
}

func rules() []rule {
	m := func(p string) string { return module + "/" + p }
	return []rule{
		{m("runtime"), []string{m("agent"), m("web"), m("firstboot"), m("cmd"), m("image"), m("proxy"), m("ddns"), "go.etcd.io/bbolt"}, nil},
		{m("proxy"), []string{m("agent"), m("web"), m("firstboot"), m("cmd"), m("image"), m("runtime"), "go.etcd.io/bbolt"}, nil},
		{m("ddns"), []string{m("agent"), m("web"), m("firstboot"), m("cmd"), m("image"), m("runtime"), "go.etcd.io/bbolt"}, nil},
		// web may use the service layer's contract (agent/api: the wire
		// types and interfaces the CLI uses too), nothing else of the agent.
		{m("web"), []string{m("agent"), m("runtime"), m("cmd"), m("image"), "github.com/containerd/", "go.etcd.io/bbolt"}, []string{m("agent/api")}},
		{m("agent"), []string{m("web"), m("cmd"), m("image"), m("firstboot")}, nil},
		{m("firstboot"), []string{m("agent"), m("web"), m("cmd"), m("image")}, nil},
		{m("cmd"), []string{m("image"), m("internal/testenv"), m("internal/sampleimg"), m("internal/samplecatalog")}, nil},
		{m("internal/ctrd"), []string{m("agent"), m("runtime"), m("web")}, nil},
		// Test tooling only: no package links it but tests and the benchmark.
		{m(""), []string{m("internal/testenv")}, nil},
	}
}

// aliases are the fixed names under which packages that shadow the standard
// library are imported everywhere.
func aliases() map[string]string {
	return map[string]string{module + "/runtime": "rt", module + "/image": "osimage"}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("repo root %s: %v", dir, err)
	}
	return dir
}

// deps maps each package of the module to all it depends on (not its tests).
func deps(t *testing.T, root string) map[string][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, stderr.String())
	}
	m := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			m[f[0]] = f[1:]
		}
	}
	if len(m) == 0 {
		t.Fatal("go list found no packages")
	}
	return m
}

// testTooling are the packages that build and run test parts for tests,
// benchmarks and make run: they may link internal/testenv.
func testTooling(pkg string) bool {
	for _, p := range []string{"internal/bench", "internal/samplecatalog", "internal/devrun"} {
		if under(pkg, module+"/"+p) {
			return true
		}
	}
	return false
}

func allowed(pkg string, allow []string) bool {
	for _, a := range allow {
		if under(pkg, a) {
			return true
		}
	}
	return false
}

func under(pkg, prefix string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

func TestDependencyDirection(t *testing.T) {
	all := deps(t, repoRoot(t))
	for _, r := range rules() {
		t.Run(strings.TrimPrefix(r.from, module+"/"), func(t *testing.T) {
			for pkg, ds := range all {
				if !under(pkg, r.from) || under(pkg, module+"/internal/testenv") || under(pkg, module+"/internal/archtest") || testTooling(pkg) {
					continue
				}
				for _, d := range ds {
					if allowed(d, r.allow) {
						continue
					}
					for _, bad := range r.deny {
						if strings.HasSuffix(bad, "/") && strings.HasPrefix(d, bad) || under(d, bad) {
							t.Errorf("%s depends on %s: the dependency direction forbids it", pkg, d)
						}
					}
				}
			}
		})
	}
}

func TestRulesCatchAViolation(t *testing.T) {
	// The checker itself must be able to fail: feed it a made-up edge.
	pkg, dep := module+"/runtime/network", module+"/agent"
	caught := false
	for _, r := range rules() {
		if !under(pkg, r.from) {
			continue
		}
		for _, bad := range r.deny {
			caught = caught || under(dep, bad)
		}
	}
	if !caught {
		t.Fatalf("got no rule against %s -> %s, want one", pkg, dep)
	}
}

func TestImportAliases(t *testing.T) {
	root := repoRoot(t)
	want := aliases()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".hearth", ".bench", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			alias, ok := want[p]
			if !ok {
				continue
			}
			if imp.Name == nil || imp.Name.Name != alias {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s imports %s without the alias %q", rel, p, alias)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
