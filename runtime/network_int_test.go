package rt_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearthbox/hearth/internal/testenv"
	rt "github.com/hearthbox/hearth/runtime"
)

// runStore runs the store sample in group g, reachable there as "store".
func runStore(t *testing.T, e *sharedEnv, tc *testClient, id, group string) rt.ContainerInfo {
	t.Helper()
	s := rt.ContainerSpec{
		ID:      id,
		Group:   group,
		Image:   tc.pull(t, e, "store:1.0"),
		Network: group,
		Names:   []string{"store", group + "_store_1"},
		DataDir: filepath.Join(tc.dataRoot, group),
		Volumes: []rt.Volume{{Source: "store", Target: "/app/data"}},
	}
	info := tc.run(t, s)
	waitHTTP(t, info.IP, 8081, "/healthz")
	return info
}

func TestServicesOfOneAppReachEachOtherByName(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	ctx := context.Background()
	_, web := startWeb(t, e, tc, "app1-web", "app1")
	store := runStore(t, e, tc, "app1-store", "app1")

	got, err := get(ctx, web.IP, 8080, "/resolve?name=store")
	if err != nil {
		t.Fatalf("resolve store: %v", err)
	}
	if !strings.Contains(got, store.IP.String()) {
		t.Errorf("store resolved to %s, want %s", got, store.IP)
	}
	got, err = get(ctx, web.IP, 8080, "/resolve?name=app1_store_1")
	if err != nil || !strings.Contains(got, store.IP.String()) {
		t.Errorf("compose container name: got %q (%v), want %s", got, err, store.IP)
	}
	for want := 1; want <= 2; want++ {
		got, err := get(ctx, web.IP, 8080, "/peer")
		if err != nil {
			t.Fatalf("peer: %v", err)
		}
		if !strings.Contains(got, fmt.Sprint(want)) {
			t.Errorf("peer call %d: got %q, want the counter at %d", want, got, want)
		}
	}

	// The name follows a restart of the peer, with a new address if need be.
	if err := tc.Stop(ctx, "app1-store", 0); err != nil {
		t.Fatal(err)
	}
	restarted, err := tc.Start(ctx, "app1-store")
	if err != nil {
		t.Fatal(err)
	}
	waitHTTP(t, restarted.IP, 8081, "/healthz")
	got, err = get(ctx, web.IP, 8080, "/resolve?name=store")
	if err != nil || !strings.Contains(got, restarted.IP.String()) {
		t.Errorf("after restart: got %q (%v), want %s", got, err, restarted.IP)
	}
}

func TestAppsCannotReachEachOther(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	ctx := context.Background()
	_, webA := startWeb(t, e, tc, "a-web", "appa")
	storeA := runStore(t, e, tc, "a-store", "appa")
	_, webB := startWeb(t, e, tc, "b-web", "appb")

	// Inside A: reachable.
	if _, err := get(ctx, webA.IP, 8080, fmt.Sprintf("/dial?addr=%s:8081&timeout=2000", storeA.IP)); err != nil {
		t.Fatalf("same app: %v", err)
	}
	// From B: A's store and A's web are unreachable, and A's names unknown.
	for _, target := range []string{storeA.IP.String() + ":8081", webA.IP.String() + ":8080"} {
		if body, err := get(ctx, webB.IP, 8080, "/dial?addr="+target+"&timeout=1000"); err == nil {
			t.Errorf("app b reached app a at %s: %s", target, body)
		}
	}
	if body, err := get(ctx, webB.IP, 8080, "/resolve?name=store"); err == nil {
		t.Errorf("app b resolved app a's store: %s", body)
	}
	// Nor can a container reach the host's own services (here: the test
	// registry on loopback, through the gateway address).
	gw := webB.IP.As4()
	gw[3] = 1
	regPort := e.registry.Host[strings.LastIndex(e.registry.Host, ":")+1:]
	if body, err := get(ctx, webB.IP, 8080, fmt.Sprintf("/dial?addr=%d.%d.%d.%d:%s&timeout=1000", gw[0], gw[1], gw[2], gw[3], regPort)); err == nil {
		t.Errorf("a container reached a host port through its gateway: %s", body)
	}
}

func TestEgressSwitch(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	ctx := context.Background()
	outside := testenv.StartOutsideHost(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "outside")
	}))
	_, web := startWeb(t, e, tc, "egress-web", "egress")
	dial := func() error {
		_, err := get(ctx, web.IP, 8080, "/dial?addr="+outside.Addr.String()+"&timeout=1000")
		return err
	}
	if err := dial(); err != nil {
		t.Fatalf("egress on: %v, want the outside host reached", err)
	}
	if _, err := tc.EnsureNetwork(ctx, rt.NetworkSpec{Name: "egress", Egress: false}); err != nil {
		t.Fatal(err)
	}
	if err := dial(); err == nil {
		t.Fatal("egress off: the outside host was reached")
	}
	if _, err := tc.EnsureNetwork(ctx, rt.NetworkSpec{Name: "egress", Egress: true}); err != nil {
		t.Fatal(err)
	}
	if err := dial(); err != nil {
		t.Fatalf("egress on again: %v", err)
	}
}

func postURL(ctx context.Context, info rt.ContainerInfo, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("http://%s:8080%s", info.IP, path), nil)
	if err != nil {
		return "", err
	}
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return "", fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	return resp.Status, nil
}
