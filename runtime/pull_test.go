package rt_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hearthbox/hearth/internal/sampleimg"
	"github.com/hearthbox/hearth/internal/testenv"
	rt "github.com/hearthbox/hearth/runtime"
)

func TestPullFromRegistry(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	var mu sync.Mutex
	var events []rt.PullProgress
	img, err := tc.Pull(context.Background(), e.refs["web:1.0"], rt.PullOptions{Progress: func(p rt.PullProgress) {
		mu.Lock()
		events = append(events, p)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	if !strings.HasPrefix(img.Digest, "sha256:") || !strings.HasSuffix(img.Ref, "@"+img.Digest) {
		t.Errorf("got ref %q digest %q, want a ref pinned to a sha256 digest", img.Ref, img.Digest)
	}
	if img.Size <= 0 {
		t.Errorf("got size %d, want > 0", img.Size)
	}
	mu.Lock()
	done := 0
	for _, p := range events {
		if p.Status == "done" && p.Done == p.Total && p.Total > 0 {
			done++
		}
	}
	mu.Unlock()
	// index, manifest, config and one layer
	if done < 3 {
		t.Errorf("got %d blobs reported done in %+v, want at least 3", done, events)
	}

	// Pulling the pinned reference again fetches nothing new and gives the same digest.
	again, err := tc.Pull(context.Background(), img.Ref, rt.PullOptions{})
	if err != nil {
		t.Fatalf("pull pinned: %v", err)
	}
	if again.Digest != img.Digest {
		t.Errorf("got digest %s on the pinned pull, want %s", again.Digest, img.Digest)
	}
}

func TestPullRefusesDigestMismatch(t *testing.T) {
	e := needEnv(t)
	ctx := context.Background()

	t.Run("registry serves other bytes than the digest", func(t *testing.T) {
		reg, err := testenv.StartRegistry(testenv.RegistryOptions{Tamper: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { reg.Close() })
		// A version no other test pulls: containerd must fetch every blob.
		ref := pushSample(t, reg.Host, sampleimg.Spec{App: "store", Version: "0.0.1-tampered"})
		tc := newClient(t, e)
		_, err = tc.Pull(ctx, ref, rt.PullOptions{})
		if !errors.Is(err, rt.ErrDigestMismatch) {
			t.Fatalf("got %v, want ErrDigestMismatch", err)
		}
		if imgs := listImages(t, tc); len(imgs) != 0 {
			t.Errorf("got images %v after a refused pull, want none", imgs)
		}
	})

	t.Run("pinned digest that the tag does not have", func(t *testing.T) {
		tc := newClient(t, e)
		web := tc.pull(t, e, "web:1.0")
		store := tc.pull(t, e, "store:1.0")
		// The store's tag pinned to the web's digest: a container spec that
		// names one image but pins another is refused at Ensure.
		named := strings.Replace(web, "/samples/web:1.0@", "/samples/store:1.0@", 1)
		if named == web || !strings.Contains(store, "/samples/store:1.0@") {
			t.Fatalf("unexpected refs %s, %s", web, store)
		}
		s := tc.webSpec("mismatch", "mm", named, "")
		if _, _, err := tc.Ensure(ctx, s); !errors.Is(err, rt.ErrDigestMismatch) {
			t.Fatalf("got %v, want ErrDigestMismatch", err)
		}
		// And pulling it from the registry finds no such manifest.
		if _, err := tc.Pull(ctx, named, rt.PullOptions{}); !errors.Is(err, rt.ErrNotFound) {
			t.Fatalf("pull %s: got %v, want ErrNotFound", named, err)
		}
	})
}

func TestPullWithCredentials(t *testing.T) {
	e := needEnv(t)
	reg, err := testenv.StartRegistry(testenv.RegistryOptions{Username: "owner", Password: "s3cret-pass"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	pushSample(t, reg.Host, sampleimg.Spec{App: "store", Version: "1.0"}, "owner", "s3cret-pass")
	tc := newClient(t, e)
	ref := reg.Host + "/samples/store:1.0"
	if _, err := tc.Pull(context.Background(), ref, rt.PullOptions{}); !errors.Is(err, rt.ErrUnauthorized) {
		t.Fatalf("without credentials: got %v, want ErrUnauthorized", err)
	}
	bad := func(string) (rt.Credentials, bool) { return rt.Credentials{Username: "owner", Secret: "wrong"}, true }
	if _, err := tc.Pull(context.Background(), ref, rt.PullOptions{Credentials: bad}); !errors.Is(err, rt.ErrUnauthorized) {
		t.Fatalf("wrong password: got %v, want ErrUnauthorized", err)
	}
	good := func(host string) (rt.Credentials, bool) {
		return rt.Credentials{Username: "owner", Secret: "s3cret-pass"}, host == reg.Host
	}
	if _, err := tc.Pull(context.Background(), ref, rt.PullOptions{Credentials: good}); err != nil {
		t.Fatalf("with credentials: %v", err)
	}
}

func TestPruneImages(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	ctx := context.Background()
	web := tc.pull(t, e, "web:1.0")
	tc.pull(t, e, "store:1.0")
	s := tc.webSpec("pruner", "prune", web, "")
	if _, _, err := tc.Ensure(ctx, s); err != nil {
		t.Fatal(err)
	}
	deleted, err := tc.PruneImages(ctx)
	if err != nil {
		t.Fatalf("prune: %v", err)
	}
	for _, d := range deleted {
		if strings.Contains(d, "/samples/web") {
			t.Errorf("pruned %s, which a container uses", d)
		}
	}
	left := listImages(t, tc)
	for _, name := range left {
		if strings.Contains(name, "/samples/store") {
			t.Errorf("store image %s kept, want it pruned", name)
		}
	}
	if len(left) == 0 {
		t.Error("got no images left, want the web image kept")
	}
}

// pushSample builds a sample image for this machine and pushes it to host,
// with basic-auth credentials when given as user, password.
func pushSample(t *testing.T, host string, s sampleimg.Spec, auth ...string) string {
	t.Helper()
	s.Platforms = []string{"linux/" + runtime.GOARCH}
	b := sampleimg.NewBuilder(sampleimg.Config{CacheDir: env.cache})
	idx, err := b.Build(context.Background(), s)
	if err != nil {
		t.Fatalf("build %s: %v", s.App, err)
	}
	var opts []remote.Option
	if len(auth) == 2 {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: auth[0], Password: auth[1]}))
	}
	ref := s.Ref(host)
	if _, err := b.Push(context.Background(), idx, ref, opts...); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref
}

// listImages names the images in the client's namespace.
func listImages(t *testing.T, tc *testClient) []string {
	t.Helper()
	cl, err := containerd.New(env.daemon.Socket, containerd.WithDefaultNamespace(tc.ns))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	imgs, err := cl.ImageService().List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range imgs {
		names = append(names, i.Name)
	}
	return names
}
