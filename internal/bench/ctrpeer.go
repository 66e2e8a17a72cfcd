package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"
	"github.com/containernetworking/cni/libcni"
)

// The ctr peer's objects. ctr 1.6 has no flag for the CNI folders: its
// --cni reads every configuration in /etc/cni/net.d and runs plugins from
// /opt/cni/bin (go-cni's defaults), and libcni caches results in
// /var/lib/cni. The benchmark writes one configuration there for the run.
const (
	ctrNamespace = "hbench-ctr"
	ctrNetName   = "hbench-ctr"
	ctrBridge    = "hbenchctr0"
	ctrConfFile  = "10-hbench-ctr.conflist"
	ctrIfName    = "eth0" // go-cni's prefix "eth" and index 0
)

// ctrPeerConfig configures the ctr method.
type ctrPeerConfig struct {
	// Binary is ctr.
	Binary string
	Socket string
	// Ref is the image reference to pull and run ("host/samples/web:1.0").
	Ref string
	// WorkDir holds the host-local leases and the containers' logs.
	WorkDir string
	// Subnet is the bridge's, distinct from the runtime's pool.
	Subnet netip.Prefix
	// ConfDir, PluginDir and CacheDir are ctr's CNI folders (fixed in ctr
	// 1.6: /etc/cni/net.d, /opt/cni/bin, /var/lib/cni); PluginSource is
	// where the plugins are when PluginDir is missing (it is then made a
	// symlink to it for the run).
	ConfDir, PluginDir, CacheDir, PluginSource string
	// Client reads task PIDs (for CNI DEL, which ctr run -d never does).
	Client *containerd.Client
}

// ctrPeer runs containers with `ctr run -d --cni`.
type ctrPeer struct {
	cfg      ctrPeerConfig
	cni      *libcni.CNIConfig
	conf     *libcni.NetworkConfigList
	leaseDir string
	logDir   string
	// undo removes what setup added to the host, last first.
	undo []func() error
}

// newCTRPeer writes the CNI configuration and pulls the image into ctr's
// namespace. On error, what it made is removed.
func newCTRPeer(ctx context.Context, cfg ctrPeerConfig) (*ctrPeer, error) {
	p := &ctrPeer{cfg: cfg, leaseDir: filepath.Join(cfg.WorkDir, "ipam"), logDir: filepath.Join(cfg.WorkDir, "logs")}
	if err := p.setup(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("ctr peer: %w", err), p.undoSetup())
	}
	return p, nil
}

func (p *ctrPeer) setup(ctx context.Context) error {
	for _, d := range []string{p.leaseDir, p.logDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	conf, err := ctrConfList(p.cfg.Subnet, p.leaseDir)
	if err != nil {
		return err
	}
	if p.conf, err = libcni.ConfListFromBytes(conf); err != nil {
		return fmt.Errorf("cni config: %w", err)
	}
	if err := p.installCNI(conf); err != nil {
		return err
	}
	p.cni = libcni.NewCNIConfigWithCacheDir([]string{p.cfg.PluginDir}, p.cfg.CacheDir, nil)
	if out, err := p.ctr(ctx, "images", "pull", "--plain-http", p.cfg.Ref); err != nil {
		return fmt.Errorf("pull %s: %w: %s", p.cfg.Ref, err, bytes.TrimSpace(out))
	}
	return nil
}

// ctrConfList is the ctr network: the same bridge and host-local settings
// as the runtime's networks (runtime/network/conflist.go), on its own
// bridge and subnet, with the leases under leaseDir.
func ctrConfList(subnet netip.Prefix, leaseDir string) ([]byte, error) {
	if !subnet.IsValid() || !subnet.Addr().Is4() || subnet.Bits() > 30 {
		return nil, fmt.Errorf("subnet %s: must be an IPv4 prefix of length 30 or less", subnet)
	}
	gw := subnet.Masked().Addr().Next()
	b, err := json.MarshalIndent(map[string]any{
		"cniVersion": "1.0.0",
		"name":       ctrNetName,
		"plugins": []any{map[string]any{
			"type":        "bridge",
			"bridge":      ctrBridge,
			"isGateway":   true,
			"ipMasq":      true,
			"hairpinMode": true,
			"ipam": map[string]any{
				"type":    "host-local",
				"ranges":  [][]map[string]string{{{"subnet": subnet.Masked().String(), "gateway": gw.String()}}},
				"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
				"dataDir": leaseDir,
			},
		}},
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode cni config: %w", err)
	}
	return b, nil
}

// installCNI puts the configuration in ConfDir and, if PluginDir is
// missing, a symlink to PluginSource there. It refuses to run beside other
// CNI configurations: ctr --cni would attach every container to them too.
func (p *ctrPeer) installCNI(conf []byte) error {
	entries, err := os.ReadDir(p.cfg.ConfDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cni config folder: %w", err)
	}
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); ext == ".conf" || ext == ".conflist" || ext == ".json" {
			return fmt.Errorf("cni config folder %s holds %s: ctr --cni would use it too; move it away for the benchmark", p.cfg.ConfDir, e.Name())
		}
	}
	if err := p.mkdirs(p.cfg.ConfDir); err != nil {
		return err
	}
	path := filepath.Join(p.cfg.ConfDir, ctrConfFile)
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		return fmt.Errorf("cni config: %w", err)
	}
	p.undo = append(p.undo, func() error { return os.Remove(path) })

	if _, err := os.Lstat(p.cfg.PluginDir); errors.Is(err, fs.ErrNotExist) {
		if err := p.mkdirs(filepath.Dir(p.cfg.PluginDir)); err != nil {
			return err
		}
		if err := os.Symlink(p.cfg.PluginSource, p.cfg.PluginDir); err != nil {
			return fmt.Errorf("cni plugin folder: %w", err)
		}
		p.undo = append(p.undo, func() error { return os.Remove(p.cfg.PluginDir) })
	} else if err != nil {
		return fmt.Errorf("cni plugin folder: %w", err)
	}
	for _, plugin := range []string{"bridge", "host-local"} {
		if _, err := os.Stat(filepath.Join(p.cfg.PluginDir, plugin)); err != nil {
			return fmt.Errorf("cni plugin folder %s has no %s plugin (install containernetworking-plugins): %w", p.cfg.PluginDir, plugin, err)
		}
	}
	// libcni (in ctr and here) makes CacheDir; remove it at the end if it
	// was not there, once empty.
	if _, err := os.Stat(p.cfg.CacheDir); errors.Is(err, fs.ErrNotExist) {
		results := filepath.Join(p.cfg.CacheDir, "results")
		p.undo = append(p.undo, func() error { return removeEmptyDirs(results, p.cfg.CacheDir) })
	}
	p.undo = append(p.undo, func() error { return deleteLink(ctrBridge) })
	return nil
}

// mkdirs makes dir and its missing parents, and registers their removal.
func (p *ctrPeer) mkdirs(dir string) error {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	slices.Reverse(missing)
	for _, d := range missing {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("make %s: %w", d, err)
		}
		p.undo = append(p.undo, func() error { return removeEmptyDirs(d) })
	}
	return nil
}

// removeEmptyDirs removes each folder in turn if it exists and is empty.
func removeEmptyDirs(dirs ...string) error {
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if len(entries) > 0 {
			return fmt.Errorf("%s is not empty: left in place", d)
		}
		if err := os.Remove(d); err != nil {
			return err
		}
	}
	return nil
}

func (p *ctrPeer) undoSetup() error {
	var errs []error
	for i := len(p.undo) - 1; i >= 0; i-- {
		errs = append(errs, p.undo[i]())
	}
	p.undo = nil
	return errors.Join(errs...)
}

// ctr runs the ctr command against the private containerd and namespace.
func (p *ctrPeer) ctr(ctx context.Context, args ...string) ([]byte, error) {
	argv := append([]string{"-a", p.cfg.Socket, "-n", ctrNamespace}, args...)
	return exec.CommandContext(ctx, p.cfg.Binary, argv...).CombinedOutput()
}

// fullID is the container ID that ctr gives CNI: namespace-id.
func fullID(id string) string { return ctrNamespace + "-" + id }

func (p *ctrPeer) start(ctx context.Context, id string) (netip.Addr, error) {
	out, err := p.ctr(ctx, "run", "-d", "--cni", "--log-uri", "file://"+filepath.Join(p.logDir, id+".log"), p.cfg.Ref, id)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("ctr run: %w: %s", err, bytes.TrimSpace(out))
	}
	return leaseIP(filepath.Join(p.leaseDir, ctrNetName), fullID(id))
}

// leaseIP finds the address host-local leased to a container: the file
// named for the address holds the container ID on its first line.
func leaseIP(dir, containerID string) (netip.Addr, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("host-local leases: %w", err)
	}
	for _, e := range entries {
		ip, err := netip.ParseAddr(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		if sc.Scan() && strings.TrimSpace(sc.Text()) == containerID {
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("host-local leases in %s: none for %s", dir, containerID)
}

// remove undoes the CNI setup (with the task's namespace, so that the
// bridge plugin also removes its masquerade rules), then deletes the task
// and the container with its snapshot, and the log.
func (p *ctrPeer) remove(ctx context.Context, id string) error {
	nctx := namespaces.WithNamespace(ctx, ctrNamespace)
	netns := ""
	ctr, err := p.cfg.Client.LoadContainer(nctx, id)
	switch {
	case errdefs.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("ctr container %s: %w", id, err)
	default:
		if task, err := ctr.Task(nctx, nil); err == nil && task.Pid() > 0 {
			netns = fmt.Sprintf("/proc/%d/ns/net", task.Pid())
		}
	}
	var errs []error
	if err := p.cni.DelNetworkList(ctx, p.conf, &libcni.RuntimeConf{ContainerID: fullID(id), NetNS: netns, IfName: ctrIfName}); err != nil {
		errs = append(errs, fmt.Errorf("cni del %s: %w", id, err))
	}
	if ctr != nil {
		if out, err := p.ctr(ctx, "task", "rm", "-f", id); err != nil && !bytes.Contains(out, []byte("not found")) {
			errs = append(errs, fmt.Errorf("ctr task rm %s: %w: %s", id, err, bytes.TrimSpace(out)))
		}
		if out, err := p.ctr(ctx, "container", "rm", id); err != nil && !bytes.Contains(out, []byte("not found")) {
			errs = append(errs, fmt.Errorf("ctr container rm %s: %w: %s", id, err, bytes.TrimSpace(out)))
		}
	}
	if err := os.Remove(filepath.Join(p.logDir, id+".log")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// close removes every container of ctr's namespace and what setup added.
func (p *ctrPeer) close(ctx context.Context) error {
	var errs []error
	ctrs, err := p.cfg.Client.Containers(namespaces.WithNamespace(ctx, ctrNamespace))
	errs = append(errs, err)
	for _, c := range ctrs {
		errs = append(errs, p.remove(ctx, c.ID()))
	}
	errs = append(errs, p.undoSetup())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ctr cleanup: %w", err)
	}
	return nil
}

// version returns ctr's version ("1.6.20~ds1").
func (p *ctrPeer) version(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, p.cfg.Binary, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("ctr --version: %w", err)
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		return "", errors.New("ctr --version: empty output")
	}
	return f[len(f)-1], nil
}
