package manifest

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// deps builds a manifest whose services depend on each other as given.
func deps(graph map[string][]string) *Manifest {
	m := &Manifest{Services: map[string]Service{}}
	for name, ds := range graph {
		var s Service
		for _, d := range ds {
			s.DependsOn = append(s.DependsOn, Dependency{Service: d})
		}
		m.Services[name] = s
	}
	return m
}

func TestStartOrder(t *testing.T) {
	tests := []struct {
		name      string
		graph     map[string][]string
		want      []string
		wantPath  string
		wantCycle string
	}{
		{"one", map[string][]string{"web": nil}, []string{"web"}, "", ""},
		{"independent in name order", map[string][]string{"zeta": nil, "alpha": nil, "mid": nil}, []string{"alpha", "mid", "zeta"}, "", ""},
		{"chain", map[string][]string{"web": {"app"}, "app": {"db"}, "db": nil}, []string{"db", "app", "web"}, "", ""},
		{
			name:  "levels, name order within each",
			graph: map[string][]string{"web": {"api", "cache"}, "api": {"db"}, "cache": nil, "db": nil, "worker": {"db"}},
			want:  []string{"cache", "db", "api", "worker", "web"},
		},
		{"diamond", map[string][]string{"d": {"b", "c"}, "b": {"a"}, "c": {"a"}, "a": nil}, []string{"a", "b", "c", "d"}, "", ""},
		{"self", map[string][]string{"web": {"web"}}, nil, "services.web.dependsOn", "dependency cycle: web -> web"},
		{"two", map[string][]string{"a": {"b"}, "b": {"a"}}, nil, "services.a.dependsOn", "dependency cycle: a -> b -> a"},
		{
			name:      "cycle behind a chain",
			graph:     map[string][]string{"web": {"api"}, "api": {"queue"}, "queue": {"worker"}, "worker": {"api"}},
			wantPath:  "services.api.dependsOn",
			wantCycle: "dependency cycle: api -> queue -> worker -> api",
		},
		{"unknown service", map[string][]string{"web": {"db"}}, nil, "services.web.dependsOn[0].service", `"db" is not a service of this app`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := deps(tc.graph).StartOrder()
			if tc.wantPath == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("order (-want +got):\n%s", diff)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, %v; want a *FieldError", got, err)
			}
			if fe.Path != tc.wantPath || fe.Reason != tc.wantCycle {
				t.Errorf("got %q: %q, want %q: %q", fe.Path, fe.Reason, tc.wantPath, tc.wantCycle)
			}
		})
	}
}

func TestHTTPServiceAndPlatforms(t *testing.T) {
	m := &Manifest{Services: map[string]Service{
		"db":  {Image: Image{Platforms: map[string]string{PlatformAMD64: "", PlatformARM64: ""}}},
		"web": {HTTPPort: 8080, Image: Image{Platforms: map[string]string{PlatformAMD64: ""}}},
	}}
	name, port, ok := m.HTTPService()
	if name != "web" || port != 8080 || !ok {
		t.Errorf("HTTPService: got %q %d %v, want web 8080 true", name, port, ok)
	}
	if diff := cmp.Diff([]string{PlatformAMD64}, m.Platforms()); diff != "" {
		t.Errorf("Platforms (-want +got):\n%s", diff)
	}
	empty := &Manifest{}
	if _, _, ok := empty.HTTPService(); ok {
		t.Error("HTTPService of no services: got ok, want not ok")
	}
	if got := empty.Platforms(); got != nil {
		t.Errorf("Platforms of no services: got %v, want none", got)
	}
}

func TestMemoryLimits(t *testing.T) {
	m := &Manifest{
		Resources: Resources{MemoryLimit: 1 * Gi},
		Services:  map[string]Service{"db": {MemoryLimit: 256 * Mi}, "web": {}, "worker": {}},
	}
	want := map[string]int64{"db": 256 << 20, "web": 384 << 20, "worker": 384 << 20}
	if diff := cmp.Diff(want, m.MemoryLimits()); diff != "" {
		t.Errorf("MemoryLimits (-want +got):\n%s", diff)
	}
}
