package testenv

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// pushRandom pushes a small random image to reg under repo:tag.
func pushRandom(t *testing.T, reg *Registry, opts ...remote.Option) (name.Reference, v1.Image) {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatalf("random image: %v", err)
	}
	ref, err := name.ParseReference(reg.Host + "/test/random:1")
	if err != nil {
		t.Fatalf("parse reference: %v", err)
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		t.Fatalf("push: %v", err)
	}
	return ref, img
}

func TestRegistryPushPull(t *testing.T) {
	reg := StartRegistryT(t, RegistryOptions{})
	if !strings.HasPrefix(reg.Host, "127.0.0.1:") {
		t.Errorf("Host: got %q, want 127.0.0.1:port", reg.Host)
	}
	ref, img := pushRandom(t, reg)
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}

	before := reg.Requests()
	got, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	gotDigest, err := got.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if gotDigest != want {
		t.Errorf("digest: got %s, want %s", gotDigest, want)
	}
	if reg.Requests() <= before {
		t.Errorf("Requests after a pull: got %d, want more than %d", reg.Requests(), before)
	}
	after := reg.Requests()
	if reg.Requests() != after {
		t.Errorf("Requests with no traffic: got %d, want %d", reg.Requests(), after)
	}
}

func TestRegistryAuth(t *testing.T) {
	reg := StartRegistryT(t, RegistryOptions{Username: "hearth", Password: "s3cret"})
	good := remote.WithAuth(&authn.Basic{Username: "hearth", Password: "s3cret"})
	ref, _ := pushRandom(t, reg, good)

	t.Run("challenge", func(t *testing.T) {
		resp, err := http.Get("http://" + reg.Host + "/v2/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		got := []string{resp.Status, resp.Header.Get("WWW-Authenticate")}
		want := []string{"401 Unauthorized", `Basic realm="hearth-test"`}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("anonymous /v2/ (-want +got):\n%s", diff)
		}
	})

	tests := []struct {
		name     string
		auth     authn.Authenticator
		wantCode int // 0: success
	}{
		{"anonymous", authn.Anonymous, http.StatusUnauthorized},
		{"wrong password", &authn.Basic{Username: "hearth", Password: "nope"}, http.StatusUnauthorized},
		{"wrong user", &authn.Basic{Username: "other", Password: "s3cret"}, http.StatusUnauthorized},
		{"right credentials", &authn.Basic{Username: "hearth", Password: "s3cret"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := remote.Head(ref, remote.WithAuth(tt.auth))
			code := 0
			var terr *transport.Error
			if errors.As(err, &terr) {
				code = terr.StatusCode
			} else if err != nil {
				t.Fatalf("head: got %v, want a transport error or success", err)
			}
			if code != tt.wantCode {
				t.Errorf("status: got %d, want %d (err %v)", code, tt.wantCode, err)
			}
		})
	}
}

func TestRegistryOptionsValidation(t *testing.T) {
	tests := []struct {
		name    string
		opts    RegistryOptions
		wantErr string
	}{
		{"user without password", RegistryOptions{Username: "a"}, "Username and Password"},
		{"password without user", RegistryOptions{Password: "a"}, "Username and Password"},
		{"colon in user", RegistryOptions{Username: "a:b", Password: "c"}, "Username must not contain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := StartRegistry(tt.opts)
			if err == nil {
				_ = r.Close()
				t.Fatalf("StartRegistry: got no error, want one containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error: got %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestRegistryTamper(t *testing.T) {
	reg := StartRegistryT(t, RegistryOptions{Tamper: true})
	ref, img := pushRandom(t, reg) // pushing works: only GETs of blobs are tampered

	// The manifest is served intact, so the image resolves to the pushed digest.
	desc, err := remote.Head(ref)
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != want {
		t.Errorf("manifest digest: got %s, want %s", desc.Digest, want)
	}

	pulled, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("pull manifest: %v", err)
	}
	layers, err := pulled.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Compressed() // verifies the digest as it reads
	if err != nil {
		t.Fatalf("open layer: %v", err)
	}
	defer rc.Close()
	_, err = io.ReadAll(rc)
	if err == nil || !strings.Contains(err.Error(), "error verifying sha256 checksum") {
		t.Errorf("reading a tampered layer: got error %v, want a sha256 verification error", err)
	}
	if _, err := pulled.ConfigFile(); err == nil {
		t.Errorf("reading the tampered config: got no error, want a digest mismatch")
	}
}

func TestRegistryCloseTwice(t *testing.T) {
	reg, err := StartRegistry(RegistryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Close(); err != nil {
		t.Errorf("first Close: got %v, want nil", err)
	}
	if err := reg.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	if _, err := http.Get("http://" + reg.Host + "/v2/"); err == nil {
		t.Errorf("GET after Close: got no error, want connection refused")
	}
}

// TestRegistryAuthContainerdResolver proves the Basic challenge works with
// containerd's docker resolver, the client hearthd pulls with.
func TestRegistryAuthContainerdResolver(t *testing.T) {
	reg := StartRegistryT(t, RegistryOptions{Username: "hearth", Password: "s3cret"})
	ref, img := pushRandom(t, reg, remote.WithAuth(&authn.Basic{Username: "hearth", Password: "s3cret"}))
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		user, pass string
		wantErr    bool
	}{
		{"no credentials", "", "", true},
		{"wrong password", "hearth", "nope", true},
		{"right credentials", "hearth", "s3cret", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			authorizer := docker.NewDockerAuthorizer(docker.WithAuthCreds(func(host string) (string, string, error) {
				if host != reg.Host {
					return "", "", fmt.Errorf("credentials asked for host %q, want %q", host, reg.Host)
				}
				return tt.user, tt.pass, nil
			}))
			resolver := docker.NewResolver(docker.ResolverOptions{
				Hosts: docker.ConfigureDefaultRegistries(
					docker.WithPlainHTTP(docker.MatchAllHosts),
					docker.WithAuthorizer(authorizer),
				),
			})
			ctx := t.Context()
			_, desc, err := resolver.Resolve(ctx, ref.String())
			if tt.wantErr {
				if err == nil {
					t.Fatalf("resolve: got no error, want one")
				}
				return
			}
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if desc.Digest.String() != want.String() {
				t.Errorf("digest: got %s, want %s", desc.Digest, want)
			}
		})
	}
}
