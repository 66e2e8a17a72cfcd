package main

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestLoadKeepsDigests pushes a layout's annotated images to a registry
// and checks they answer by tag with their digests unchanged.
func TestLoadKeepsDigests(t *testing.T) {
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := random.Index(512, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{refAnnotation: "samples/web:1.0"})); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{refAnnotation: "samples/store:1.0"})); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil { // no name: not served
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.New())
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")

	n, err := load(context.Background(), host, dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("images: got %d, want 2", n)
	}
	wantIdx, _ := idx.Digest()
	wantImg, _ := img.Digest()
	for _, tc := range []struct{ ref, want string }{
		{"samples/web:1.0", wantIdx.String()},
		{"samples/store:1.0", wantImg.String()},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			ref, err := name.ParseReference(host+"/"+tc.ref, name.Insecure)
			if err != nil {
				t.Fatal(err)
			}
			desc, err := remote.Head(ref)
			if err != nil {
				t.Fatal(err)
			}
			if got := desc.Digest.String(); got != tc.want {
				t.Errorf("got digest %s, want %s", got, tc.want)
			}
		})
	}
}

func TestServeRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:5115", "192.0.2.1:5115", "example.org:5115", "nonsense"} {
		t.Run(addr, func(t *testing.T) {
			if err := serve(context.Background(), addr, t.TempDir(), nil); err == nil {
				t.Errorf("got no error for %s, want one", addr)
			}
		})
	}
}
