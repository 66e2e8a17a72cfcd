package sampleimg

import (
	"fmt"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// defaultPath is the PATH the images set (there is no shell; it is only
// there so that runtimes which expect one find one).
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// labels are the config labels and index annotations of s's image.
func labels(s Spec) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":   s.App,
		"org.opencontainers.image.version": s.Version,
		"org.hearthbox.sample.broken":      strconv.FormatBool(s.Broken),
	}
}

// configFile is the image config of s on p (without rootfs and history,
// which mutate.Append fills in).
func configFile(s Spec, p platform) *v1.ConfigFile {
	port, _ := appPort(s.App)
	return &v1.ConfigFile{
		Architecture: p.Arch,
		OS:           p.OS,
		Variant:      p.Variant,
		Created:      v1.Time{Time: epoch()},
		Config: v1.Config{
			Entrypoint:   []string{"/app/" + s.App},
			User:         fmt.Sprintf("%d:%d", nonroot, nonroot),
			Env:          []string{"PATH=" + defaultPath, "PORT=" + port},
			ExposedPorts: map[string]struct{}{port + "/tcp": {}},
			WorkingDir:   "/app",
			StopSignal:   "SIGTERM",
			Labels:       labels(s),
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
}

// image assembles the one-layer OCI image of s on p.
func image(s Spec, p platform, layer v1.Layer) (v1.Image, error) {
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	base, err := mutate.ConfigFile(base, configFile(s, p))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: epoch()},
			CreatedBy: "hearth sampleimg: go build ./internal/sampleapps/" + s.App,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	return img, nil
}
