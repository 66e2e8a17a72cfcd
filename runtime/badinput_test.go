package rt_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/google/go-cmp/cmp"

	rt "github.com/hearthbox/hearth/runtime"
)

// hostState is what a failed operation must not leave behind.
type hostState struct {
	Snapshots  []string
	Containers []string
	NetNS      []string
	Leases     []string
	Rules      []string
}

func snapshotHost(t *testing.T, tc *testClient) hostState {
	t.Helper()
	var s hostState
	cl, err := containerd.New(env.daemon.Socket, containerd.WithDefaultNamespace(tc.ns))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if err := cl.SnapshotService("overlayfs").Walk(ctx, func(_ context.Context, i snapshots.Info) error {
		s.Snapshots = append(s.Snapshots, i.Name)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ctrs, err := cl.Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ctrs {
		s.Containers = append(s.Containers, c.ID())
	}
	netDir := filepath.Join(tc.cfg.StateDir, "network")
	s.NetNS, _ = filepath.Glob(filepath.Join(netDir, "netns", "*"))
	_ = filepath.WalkDir(filepath.Join(netDir, "ipam"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), "last_reserved_ip") && d.Name() != "lock" {
			s.Leases = append(s.Leases, p)
		}
		return nil
	})
	for _, table := range []string{"filter", "nat"} {
		out, err := exec.Command("iptables", "-t", table, "-S").Output()
		if err != nil {
			t.Fatalf("iptables -S: %v", err)
		}
		// Only this client's rules: other test packages run at the same time.
		prefix := tc.cfg.Network.Prefix
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, prefix) || strings.Contains(line, strings.ToUpper(prefix)) || strings.Contains(line, `id: \"bad-web\"`) {
				s.Rules = append(s.Rules, table+": "+line)
			}
		}
	}
	sort.Strings(s.Rules)
	return s
}

func TestBadInputLeavesNothingBehind(t *testing.T) {
	e := needEnv(t)
	tc := newClient(t, e)
	ctx := context.Background()
	if _, err := tc.EnsureNetwork(ctx, rt.NetworkSpec{Name: "bad", Egress: true}); err != nil {
		t.Fatal(err)
	}
	web := tc.pull(t, e, "web:1.0")
	before := snapshotHost(t, tc)

	base := func() rt.ContainerSpec { return tc.webSpec("bad-web", "bad", web, "bad") }
	cases := []struct {
		name string
		op   func() error
		is   error
		says string
	}{
		{"missing image", func() error {
			_, err := tc.Pull(ctx, e.registry.Host+"/samples/nothing:1.0", rt.PullOptions{})
			return err
		}, rt.ErrNotFound, "samples/nothing:1.0"},
		{"unreachable registry", func() error {
			_, err := tc.Pull(ctx, "127.0.0.1:1/samples/web:1.0", rt.PullOptions{})
			return err
		}, rt.ErrUnreachable, "127.0.0.1:1"},
		{"malformed reference", func() error {
			_, err := tc.Pull(ctx, "Not A Reference!!", rt.PullOptions{})
			return err
		}, rt.ErrBadReference, "Not A Reference!!"},
		{"malformed reference in a spec", func() error {
			s := base()
			s.Image = "web:@@"
			_, _, err := tc.Ensure(ctx, s)
			return err
		}, rt.ErrInvalid, "image"},
		{"volume escapes the data folder", func() error {
			s := base()
			s.Volumes = []rt.Volume{{Source: "../../etc", Target: "/app/data"}}
			_, _, err := tc.Ensure(ctx, s)
			return err
		}, rt.ErrInvalid, "volumes[0].source"},
		{"data folder outside the data root", func() error {
			s := base()
			s.DataDir = "/etc"
			_, _, err := tc.Ensure(ctx, s)
			return err
		}, rt.ErrInvalid, "dataDir"},
		{"unknown capability", func() error {
			s := base()
			s.Capabilities = []string{"CAP_MAKE_COFFEE"}
			_, _, err := tc.Ensure(ctx, s)
			return err
		}, rt.ErrInvalid, "capabilities[0]"},
		{"image not pulled", func() error {
			s := base()
			s.Image = e.registry.Host + "/samples/store:1.0@sha256:" + strings.Repeat("ab", 32)
			_, _, err := tc.Ensure(ctx, s)
			return err
		}, rt.ErrImageNotPulled, "store"},
		{"command missing in the image", func() error {
			s := base()
			s.Entrypoint = []string{"/no/such/binary"}
			if _, _, err := tc.Ensure(ctx, s); err != nil {
				return err
			}
			_, err := tc.Start(ctx, s.ID)
			if err == nil {
				return nil
			}
			return errors.Join(err, tc.Remove(ctx, s.ID))
		}, nil, "/no/such/binary"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.op()
			if err == nil {
				t.Fatal("got no error")
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("got %v, want %v", err, c.is)
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Errorf("got %q, want it to name %q", err, c.says)
			}
			after := snapshotHost(t, tc)
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("left something behind (-before +after):\n%s", diff)
			}
		})
	}
}
