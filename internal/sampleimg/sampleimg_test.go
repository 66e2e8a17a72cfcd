package sampleimg

import (
	"archive/tar"
	"debug/elf"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/hearthbox/hearth/internal/testenv"
)

// newTestBuilder returns a Builder caching in a folder removed after the test.
// Under CI a missing go command fails the test.
func newTestBuilder(t *testing.T, cacheDir string) *Builder {
	t.Helper()
	b := NewBuilder(Config{CacheDir: cacheDir})
	if b.err != nil {
		testenv.Unavailable(t, b.err.Error())
	}
	return b
}

// imageFor returns the image of idx built for p.
func imageFor(t *testing.T, idx v1.ImageIndex, p v1.Platform) v1.Image {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.Equals(p) {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			return img
		}
	}
	t.Fatalf("index has no image for %s", p)
	return nil
}

// tarEntry is what the tests check of a layer's tar entries.
type tarEntry struct {
	Name     string
	Type     byte
	Mode     int64
	UID, GID int
	ModTime  time.Time
}

// readLayer lists img's single layer and returns the binary's bytes.
func readLayer(t *testing.T, img v1.Image, app string) ([]tarEntry, []byte) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("layers: got %d, want 1", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var entries []tarEntry
	var bin []byte
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, tarEntry{h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid, h.ModTime.UTC()})
		if h.Name == "app/"+app {
			if bin, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	return entries, bin
}

func TestBuild(t *testing.T) {
	ctx := t.Context()
	cache := t.TempDir()
	b := newTestBuilder(t, cache)

	// Build the standard set once; the subtests share it.
	built := map[string]v1.ImageIndex{}
	for _, s := range Standard() {
		idx, err := b.Build(ctx, s)
		if err != nil {
			t.Fatalf("build %s %s: %v", s.App, s.Version, err)
		}
		built[s.App+":"+s.Version] = idx
	}
	amd64 := v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 := v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}

	t.Run("index", func(t *testing.T) {
		for ref, idx := range built {
			mt, err := idx.MediaType()
			if err != nil {
				t.Fatal(err)
			}
			im, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range im.Manifests {
				got = append(got, string(d.MediaType)+" "+d.Platform.String())
			}
			want := []string{string(types.OCIManifestSchema1) + " linux/amd64", string(types.OCIManifestSchema1) + " linux/arm64/v8"}
			if mt != types.OCIImageIndex {
				t.Errorf("%s media type: got %s, want %s", ref, mt, types.OCIImageIndex)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s manifests (-want +got):\n%s", ref, diff)
			}
		}
	})

	t.Run("config", func(t *testing.T) {
		path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		tests := []struct {
			ref      string
			platform v1.Platform
			want     v1.Config
		}{
			{"web:1.0", amd64, v1.Config{
				Entrypoint: []string{"/app/web"}, User: "65532:65532", WorkingDir: "/app", StopSignal: "SIGTERM",
				Env: []string{"PATH=" + path, "PORT=8080"}, ExposedPorts: map[string]struct{}{"8080/tcp": {}},
				Labels: map[string]string{"org.opencontainers.image.title": "web", "org.opencontainers.image.version": "1.0", "org.hearthbox.sample.broken": "false"},
			}},
			{"web:2.0", arm64, v1.Config{
				Entrypoint: []string{"/app/web"}, User: "65532:65532", WorkingDir: "/app", StopSignal: "SIGTERM",
				Env: []string{"PATH=" + path, "PORT=8080"}, ExposedPorts: map[string]struct{}{"8080/tcp": {}},
				Labels: map[string]string{"org.opencontainers.image.title": "web", "org.opencontainers.image.version": "2.0", "org.hearthbox.sample.broken": "true"},
			}},
			{"store:1.0", arm64, v1.Config{
				Entrypoint: []string{"/app/store"}, User: "65532:65532", WorkingDir: "/app", StopSignal: "SIGTERM",
				Env: []string{"PATH=" + path, "PORT=8081"}, ExposedPorts: map[string]struct{}{"8081/tcp": {}},
				Labels: map[string]string{"org.opencontainers.image.title": "store", "org.opencontainers.image.version": "1.0", "org.hearthbox.sample.broken": "false"},
			}},
			{"store:1.0", amd64, v1.Config{
				Entrypoint: []string{"/app/store"}, User: "65532:65532", WorkingDir: "/app", StopSignal: "SIGTERM",
				Env: []string{"PATH=" + path, "PORT=8081"}, ExposedPorts: map[string]struct{}{"8081/tcp": {}},
				Labels: map[string]string{"org.opencontainers.image.title": "store", "org.opencontainers.image.version": "1.0", "org.hearthbox.sample.broken": "false"},
			}},
		}
		for _, tt := range tests {
			t.Run(tt.ref+" "+tt.platform.String(), func(t *testing.T) {
				img := imageFor(t, built[tt.ref], tt.platform)
				cf, err := img.ConfigFile()
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, cf.Config); diff != "" {
					t.Errorf("config (-want +got):\n%s", diff)
				}
				got := []string{cf.OS, cf.Architecture, cf.Variant, cf.Created.UTC().String()}
				want := []string{tt.platform.OS, tt.platform.Architecture, tt.platform.Variant, time.Unix(0, 0).UTC().String()}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("os, arch, variant, created (-want +got):\n%s", diff)
				}
				mt, err := img.MediaType()
				if err != nil {
					t.Fatal(err)
				}
				m, err := img.Manifest()
				if err != nil {
					t.Fatal(err)
				}
				gotTypes := []types.MediaType{mt, m.Config.MediaType, m.Layers[0].MediaType}
				wantTypes := []types.MediaType{types.OCIManifestSchema1, types.OCIConfigJSON, types.OCILayer}
				if diff := cmp.Diff(wantTypes, gotTypes); diff != "" {
					t.Errorf("media types (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("layer", func(t *testing.T) {
		tests := []struct {
			ref      string
			app      string
			platform v1.Platform
			machine  elf.Machine
		}{
			{"web:1.0", "web", amd64, elf.EM_X86_64},
			{"web:1.0", "web", arm64, elf.EM_AARCH64},
			{"store:1.0", "store", amd64, elf.EM_X86_64},
			{"store:1.0", "store", arm64, elf.EM_AARCH64},
		}
		for _, tt := range tests {
			t.Run(tt.ref+" "+tt.platform.String(), func(t *testing.T) {
				entries, bin := readLayer(t, imageFor(t, built[tt.ref], tt.platform), tt.app)
				epoch := time.Unix(0, 0).UTC()
				want := []tarEntry{
					{"app/", tar.TypeDir, 0o755, 0, 0, epoch},
					{"app/" + tt.app, tar.TypeReg, 0o755, 0, 0, epoch},
					{"app/data/", tar.TypeDir, 0o755, 65532, 65532, epoch},
					{"etc/", tar.TypeDir, 0o755, 0, 0, epoch},
					{"run/", tar.TypeDir, 0o755, 0, 0, epoch},
					{"tmp/", tar.TypeDir, 0o1777, 0, 0, epoch},
				}
				if diff := cmp.Diff(want, entries); diff != "" {
					t.Errorf("layer entries (-want +got):\n%s", diff)
				}
				f, err := elf.NewFile(strings.NewReader(string(bin)))
				if err != nil {
					t.Fatalf("binary is not ELF: %v", err)
				}
				if f.Machine != tt.machine {
					t.Errorf("ELF machine: got %s, want %s", f.Machine, tt.machine)
				}
				if interp := f.Section(".interp"); interp != nil {
					t.Errorf("binary has an ELF interpreter: want a static binary")
				}
			})
		}
	})

	t.Run("same spec same digest", func(t *testing.T) {
		want, err := built["web:1.0"].Digest()
		if err != nil {
			t.Fatal(err)
		}
		// From the cache.
		again, err := b.Build(ctx, Standard()[0])
		if err != nil {
			t.Fatal(err)
		}
		got, err := again.Digest()
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("cached rebuild digest: got %s, want %s", got, want)
		}
		// From scratch, in another cache: the binary itself is reproducible.
		fresh, err := newTestBuilder(t, t.TempDir()).Build(ctx, Spec{App: "web", Version: "1.0", Platforms: []string{"linux/amd64"}})
		if err != nil {
			t.Fatal(err)
		}
		gotImg, err := imageFor(t, fresh, amd64).Digest()
		if err != nil {
			t.Fatal(err)
		}
		wantImg, err := imageFor(t, built["web:1.0"], amd64).Digest()
		if err != nil {
			t.Fatal(err)
		}
		if gotImg != wantImg {
			t.Errorf("fresh rebuild image digest: got %s, want %s", gotImg, wantImg)
		}
	})

	t.Run("different specs differ", func(t *testing.T) {
		d1, err := built["web:1.0"].Digest()
		if err != nil {
			t.Fatal(err)
		}
		d2, err := built["web:2.0"].Digest()
		if err != nil {
			t.Fatal(err)
		}
		if d1 == d2 {
			t.Errorf("web 1.0 and web 2.0 have the same digest %s", d1)
		}
	})

	t.Run("cache hit runs no go build", func(t *testing.T) {
		nogo := NewBuilder(Config{CacheDir: cache, GoBinary: filepath.Join(t.TempDir(), "no-go")})
		if _, err := nogo.Build(ctx, Standard()[2]); err != nil {
			t.Errorf("build from cache with no go command: got %v, want success", err)
		}
		if _, err := nogo.Build(ctx, Spec{App: "store", Version: "1.1"}); err == nil {
			t.Errorf("build of an uncached spec with no go command: got success, want an error")
		}
	})

	t.Run("push", func(t *testing.T) {
		reg := testenv.StartRegistryT(t, testenv.RegistryOptions{})
		for _, s := range Standard() {
			idx := built[s.App+":"+s.Version]
			ref := s.Ref(reg.Host)
			digest, err := b.Push(ctx, idx, ref)
			if err != nil {
				t.Fatalf("push %s: %v", ref, err)
			}
			want, err := idx.Digest()
			if err != nil {
				t.Fatal(err)
			}
			if digest != want.String() {
				t.Errorf("push %s digest: got %s, want %s", ref, digest, want)
			}
			r, err := name.ParseReference(ref)
			if err != nil {
				t.Fatal(err)
			}
			pulled, err := remote.Index(r, remote.WithContext(ctx))
			if err != nil {
				t.Fatalf("read index back: %v", err)
			}
			got, err := pulled.Digest()
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s index digest read back: got %s, want %s", ref, got, want)
			}
			cf, err := imageFor(t, pulled, arm64).ConfigFile()
			if err != nil {
				t.Fatalf("read arm64 config back: %v", err)
			}
			if cf.Config.Labels["org.opencontainers.image.version"] != s.Version {
				t.Errorf("%s arm64 version label: got %q, want %q", ref, cf.Config.Labels["org.opencontainers.image.version"], s.Version)
			}
		}
	})
}

func TestSpecValidation(t *testing.T) {
	tests := []struct {
		name      string
		spec      Spec
		wantField string // "" when valid
	}{
		{"web default platforms", Spec{App: "web", Version: "1.0"}, ""},
		{"store arm v7", Spec{App: "store", Version: "1.0-rc.1+x", Platforms: []string{"linux/arm/v7"}}, ""},
		{"arm64 with v8", Spec{App: "web", Version: "1", Platforms: []string{"linux/arm64/v8"}}, ""},
		{"unknown app", Spec{App: "db", Version: "1.0"}, "App"},
		{"no version", Spec{App: "web"}, "Version"},
		{"version with space", Spec{App: "web", Version: "1.0 -X main.broken=true"}, "Version"},
		{"version starting with dash", Spec{App: "web", Version: "-1"}, "Version"},
		{"version too long", Spec{App: "web", Version: strings.Repeat("1", 65)}, "Version"},
		{"windows", Spec{App: "web", Version: "1", Platforms: []string{"windows/amd64"}}, "Platforms"},
		{"unknown arch", Spec{App: "web", Version: "1", Platforms: []string{"linux/mips"}}, "Platforms"},
		{"arm without variant", Spec{App: "web", Version: "1", Platforms: []string{"linux/arm"}}, "Platforms"},
		{"duplicate platform", Spec{App: "web", Version: "1", Platforms: []string{"linux/arm64", "linux/arm64/v8"}}, "Platforms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.spec.validate()
			if tt.wantField == "" {
				if err != nil {
					t.Errorf("validate: got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("validate: got %v, want ErrInvalidSpec", err)
			}
			if !strings.Contains(err.Error(), "spec field "+tt.wantField+":") {
				t.Errorf("validate: got %q, want it to name field %s", err, tt.wantField)
			}
		})
	}
}

func TestNewBuilderConfig(t *testing.T) {
	t.Run("no cache dir", func(t *testing.T) {
		_, err := NewBuilder(Config{}).Build(t.Context(), Standard()[0])
		if err == nil || !strings.Contains(err.Error(), "CacheDir") {
			t.Errorf("Build: got %v, want an error naming CacheDir", err)
		}
	})
	t.Run("module dir found from the working directory", func(t *testing.T) {
		b := NewBuilder(Config{CacheDir: t.TempDir(), GoBinary: "go"})
		if _, err := os.Stat(filepath.Join(b.cfg.ModuleDir, "internal", "sampleapps", "web")); err != nil {
			t.Errorf("ModuleDir %q: got %v, want the module root", b.cfg.ModuleDir, err)
		}
	})
	t.Run("module dir without the apps", func(t *testing.T) {
		b := NewBuilder(Config{CacheDir: t.TempDir(), GoBinary: "go", ModuleDir: t.TempDir()})
		_, err := b.Build(t.Context(), Standard()[0])
		if err == nil || !strings.Contains(err.Error(), "ModuleDir") {
			t.Errorf("Build: got %v, want an error naming ModuleDir", err)
		}
	})
}
