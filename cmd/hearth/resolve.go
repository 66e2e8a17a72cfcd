package main

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// resolveTimeout bounds one registry lookup of catalog build.
const resolveTimeout = 30 * time.Second

// resolveDigest asks ref's registry for the digest of its image for
// platform ("linux/arm64"): the platform's manifest in a multi-platform
// index, or the image itself when it is single-platform and matches.
func resolveDigest(ctx context.Context, ref, platform string) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("image %q: %w", ref, err)
	}
	want, err := v1.ParsePlatform(platform)
	if err != nil {
		return "", fmt.Errorf("platform %q: %w", platform, err)
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	desc, err := remote.Get(r, remote.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("image %q: %w", ref, err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return "", fmt.Errorf("image %q: %w", ref, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return "", fmt.Errorf("image %q: %w", ref, err)
		}
		for _, m := range im.Manifests {
			if m.Platform != nil && m.Platform.Satisfies(*want) {
				return m.Digest.String(), nil
			}
		}
		return "", fmt.Errorf("image %q: no %s manifest in its index", ref, platform)
	}
	img, err := desc.Image()
	if err != nil {
		return "", fmt.Errorf("image %q: %w", ref, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", fmt.Errorf("image %q: %w", ref, err)
	}
	if got := cfg.Platform(); got == nil || !got.Satisfies(*want) {
		return "", fmt.Errorf("image %q: single-platform image, not %s", ref, platform)
	}
	return desc.Digest.String(), nil
}
