package boottest

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	osimage "github.com/hearthbox/hearth/image"
	"github.com/hearthbox/hearth/internal/samplecatalog"
)

// apiPort is the test image's guest port for hearthd's API.
const apiPort = 7070

// prepareSamples builds the sample apps' images for arch, signs the sample
// catalog naming a loopback registry, and copies the images into an OCI
// layout the test image serves them from.
func prepareSamples(ctx context.Context, dir string, arch osimage.Arch) (*osimage.Samples, error) {
	s, err := samplecatalog.Start(ctx, samplecatalog.Options{Dir: filepath.Join(dir, "dev"), RegistryAddr: "127.0.0.1:0", Platform: "linux/" + string(arch)})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	reg, err := netip.ParseAddrPort(s.RegistryHost)
	if err != nil {
		return nil, fmt.Errorf("sample registry %q: %w", s.RegistryHost, err)
	}
	out := filepath.Join(dir, "oci")
	p, err := layout.Write(out, empty.Index)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(s.Digests))
	for k := range s.Digests {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ref, err := name.ParseReference(s.RegistryHost+"/samples/"+k, name.Insecure)
		if err != nil {
			return nil, err
		}
		idx, err := remote.Index(ref, remote.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", ref, err)
		}
		if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "samples/" + k})); err != nil {
			return nil, err
		}
	}
	return &osimage.Samples{
		Catalog:  s.Envelope,
		Key:      base64.StdEncoding.EncodeToString(s.Source.Trust.Keys[0].Public),
		Layout:   out,
		Registry: reg,
		APIPort:  apiPort,
	}, nil
}
