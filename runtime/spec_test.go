package rt

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/cap"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func baseSpec() ContainerSpec {
	return ContainerSpec{
		ID:        "app-web",
		Group:     "app",
		Image:     "registry.example/web:1.0@sha256:" + "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12",
		Network:   "app",
		Names:     []string{"web"},
		DataDir:   "/var/lib/hearth/apps/app",
		Volumes:   []Volume{{Source: "web", Target: "/app/data"}},
		Env:       []string{"STORE_URL=http://store:8081"},
		Health:    &HealthCheck{HTTPPath: "/healthz", HTTPPort: 8080, Interval: time.Second},
		Resources: Resources{MemoryBytes: 64 << 20, PidsLimit: 64},
	}
}

func imageConfig() ocispec.ImageConfig {
	return ocispec.ImageConfig{
		User:       "65532:65532",
		Env:        []string{"PATH=/usr/bin:/bin", "PORT=8080"},
		Entrypoint: []string{"/app/web"},
		Cmd:        []string{"--serve"},
		WorkingDir: "/app",
	}
}

// TestSpecGolden renders the OCI spec of each case and compares it with
// testdata/spec/<case>.json. The seccomp profile is containerd's default and
// depends on the machine's architecture: it is checked, not stored.
func TestSpecGolden(t *testing.T) {
	cases := map[string]func(*ContainerSpec){
		"default": func(*ContainerSpec) {},
		"capabilities": func(s *ContainerSpec) {
			s.Capabilities = []string{"net_bind_service", "CAP_CHOWN", "NET_BIND_SERVICE"}
		},
		"command override": func(s *ContainerSpec) { s.Command = []string{"--debug"} },
		"entrypoint override": func(s *ContainerSpec) {
			s.Entrypoint = []string{"/bin/sh", "-c"}
			s.Command = []string{"exec /app/web"}
		},
		"user, workdir, tmpfs, sysctls and cpu": func(s *ContainerSpec) {
			s.User = "1000:1001"
			s.WorkingDir = "/srv"
			s.Tmpfs = []Tmpfs{{Target: "/var/cache/app", SizeBytes: 16 << 20}}
			s.Sysctls = map[string]string{"net.ipv4.ip_unprivileged_port_start": "80"}
			s.Resources.CPUWeight = 50
			s.Resources.ShmBytes = 128 << 20
			s.Volumes = append(s.Volumes, Volume{Source: "config", Target: "/etc/app", ReadOnly: true})
		},
		"no network":    func(s *ContainerSpec) { s.Network = "" },
		"writable root": func(s *ContainerSpec) { s.WritableRoot = true },
		"host mounts and files": func(s *ContainerSpec) {
			s.HostMounts = []HostMount{{Source: "/run/dbus", Target: "/run/dbus", ReadOnly: true}, {Source: "/var/run/docker.sock", Target: "/var/run/docker.sock"}}
			s.Files = []File{{Target: "/etc/nginx/conf.d/default.conf", Content: "server {}\n"}}
		},
		"host network and pid": func(s *ContainerSpec) {
			s.Network = ""
			s.HostNetwork = true
			s.HostPID = true
		},
		"privileged": func(s *ContainerSpec) {
			s.Privileged = true
			s.Capabilities = []string{"CHOWN"}
		},
	}
	for name, tune := range cases {
		t.Run(name, func(t *testing.T) {
			s := baseSpec()
			tune(&s)
			if err := s.Validate("/var/lib/hearth/apps"); err != nil {
				t.Fatalf("validate: %v", err)
			}
			paths := hostPaths{ResolvConf: "/state/containers/app-web/resolv.conf", Hosts: "/state/containers/app-web/hosts", Hostname: "/state/containers/app-web/hostname"}
			if s.Network != "" {
				paths.NetNS = "/state/network/netns/app-web"
			}
			for _, v := range s.Volumes {
				paths.Volumes = append(paths.Volumes, filepath.Join(s.DataDir, v.Source))
			}
			for i := range s.Files {
				paths.Files = append(paths.Files, fmt.Sprintf("/state/containers/app-web/files/%d", i))
			}
			opts, err := specOpts(s, imageConfig(), withDefaults(s.Resources, Resources{MemoryBytes: 512 << 20, PidsLimit: 1024}), paths)
			if err != nil {
				t.Fatal(err)
			}
			opts = append(opts, withTmpfsOwnedByUser)
			ctx := namespaces.WithNamespace(context.Background(), "hearth")
			spec, err := oci.GenerateSpecWithPlatform(ctx, nil, "linux/amd64", &containers.Container{ID: s.ID}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case s.Privileged && spec.Linux.Seccomp != nil:
				t.Fatalf("got seccomp %+v for a privileged container, want none", spec.Linux.Seccomp)
			case s.Privileged:
				// The host's devices and hearthd's capabilities depend on the
				// machine: checked, not stored.
				if len(spec.Linux.Devices) == 0 {
					t.Fatalf("got no devices for a privileged container, want the host's")
				}
				current, err := cap.Current()
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(current, spec.Process.Capabilities.Bounding); diff != "" {
					t.Fatalf("bounding capabilities of a privileged container (-this process's +got):\n%s", diff)
				}
				spec.Linux.Devices, spec.Process.Capabilities = nil, nil
			case spec.Linux.Seccomp == nil || spec.Linux.Seccomp.DefaultAction == "" || len(spec.Linux.Seccomp.Syscalls) == 0:
				t.Fatalf("got seccomp %+v, want containerd's default profile", spec.Linux.Seccomp)
			}
			spec.Linux.Seccomp = nil
			got, err := json.MarshalIndent(spec, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "spec", strings.NewReplacer(" ", "-", ",", "").Replace(name)+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./runtime -run TestSpecGolden -update)", err)
			}
			if diff := cmp.Diff(string(want), string(got)+"\n"); diff != "" {
				t.Errorf("spec differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestSpecHashChangesWithSpec(t *testing.T) {
	a := baseSpec()
	b := baseSpec()
	if SpecHash(a) != SpecHash(b) {
		t.Fatal("equal specs hash differently")
	}
	b.Env = append(b.Env, "X=1")
	if SpecHash(a) == SpecHash(b) {
		t.Fatal("got the same hash for different env, want different")
	}
}

func TestProcessArgs(t *testing.T) {
	img := imageConfig()
	cases := []struct {
		name       string
		entrypoint []string
		command    []string
		want       []string
	}{
		{"image's", nil, nil, []string{"/app/web", "--serve"}},
		{"command replaces cmd", nil, []string{"--debug"}, []string{"/app/web", "--debug"}},
		{"entrypoint drops the image's cmd", []string{"/bin/true"}, nil, []string{"/bin/true"}},
		{"both", []string{"/bin/sh", "-c"}, []string{"echo hi"}, []string{"/bin/sh", "-c", "echo hi"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := processArgs(ContainerSpec{Entrypoint: c.entrypoint, Command: c.command}, img)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}
