package rt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/containerd/v2/contrib/seccomp"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hostPaths are the files and folders on the host that a container's spec
// points at. They are computed by the client and passed in, so that spec
// generation is a pure function of its input.
type hostPaths struct {
	NetNS      string // empty: a private namespace with only loopback
	ResolvConf string
	Hosts      string
	Hostname   string
	// Volumes are the resolved host folders, index for index with spec.Volumes.
	Volumes []string
	// Files are the written files, index for index with spec.Files.
	Files []string
}

// SpecHash identifies a ContainerSpec: equal specs hash equal, and any change
// that matters to the container changes it. ContainerInfo.SpecHash holds the
// hash of the spec a container was made from, so a caller can tell whether
// Ensure would replace it without asking.
func SpecHash(s ContainerSpec) string {
	b, _ := json.Marshal(s) // a ContainerSpec always marshals
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// withDefaults fills zero resources from the runtime's defaults.
func withDefaults(r, d Resources) Resources {
	if r.MemoryBytes == 0 {
		r.MemoryBytes = d.MemoryBytes
	}
	if r.PidsLimit == 0 {
		r.PidsLimit = d.PidsLimit
	}
	if r.CPUWeight == 0 {
		r.CPUWeight = d.CPUWeight
	}
	return r
}

// processArgs merges the image's entrypoint and command with the spec's the
// way compose does: a new entrypoint drops the image's command.
func processArgs(s ContainerSpec, img ocispec.ImageConfig) []string {
	switch {
	case s.Entrypoint != nil:
		return slices.Concat(s.Entrypoint, s.Command)
	case s.Command != nil:
		return slices.Concat(img.Entrypoint, s.Command)
	default:
		return slices.Concat(img.Entrypoint, img.Cmd)
	}
}

// specOpts turns a validated spec into containerd spec options. The user, if
// the image names one by name, is resolved later from the image's rootfs.
func specOpts(s ContainerSpec, img ocispec.ImageConfig, res Resources, p hostPaths) ([]oci.SpecOpts, error) {
	args := processArgs(s, img)
	if len(args) == 0 {
		return nil, fieldErr("command", "neither the spec nor the image gives a command")
	}
	cwd := s.WorkingDir
	if cwd == "" {
		cwd = img.WorkingDir
	}
	if cwd == "" {
		cwd = "/"
	}
	hostname := s.Hostname
	if hostname == "" && len(s.Names) > 0 {
		hostname = s.Names[0]
	}
	if hostname == "" {
		hostname = s.ID
	}
	opts := []oci.SpecOpts{
		oci.WithEnv(img.Env),
		oci.WithEnv(s.Env),
		oci.WithProcessArgs(args...),
		oci.WithProcessCwd(cwd),
		oci.WithHostname(hostname),
		oci.WithNoNewPrivileges,
		oci.WithoutRunMount,
		oci.WithMounts(mounts(s, p)),
		oci.WithMemoryLimit(uint64(res.MemoryBytes)),
		oci.WithMemorySwap(res.MemoryBytes),
		oci.WithPidsLimit(res.PidsLimit),
	}
	if !s.WritableRoot {
		opts = append(opts, oci.WithRootFSReadonly())
	}
	if res.CPUWeight > 0 {
		opts = append(opts, oci.WithCPUShares(res.CPUWeight*1024/100))
	}
	if res.ShmBytes > 0 {
		opts = append(opts, oci.WithDevShmSize(res.ShmBytes/1024))
	}
	user := s.User
	if user == "" {
		user = img.User
	}
	switch {
	case user == "":
		opts = append(opts, oci.WithUIDGID(0, 0))
	case userPattern.MatchString(user):
		uid, gid, err := parseUser(user)
		if err != nil {
			return nil, err
		}
		opts = append(opts, oci.WithUIDGID(uid, gid))
	}
	switch {
	case s.HostNetwork:
		opts = append(opts, oci.WithHostNamespace(specs.NetworkNamespace))
	case p.NetNS != "":
		opts = append(opts, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: p.NetNS}))
	}
	if s.HostPID {
		opts = append(opts, oci.WithHostNamespace(specs.PIDNamespace))
	}
	if len(s.Sysctls) > 0 {
		opts = append(opts, withSysctls(s.Sysctls))
	}
	for _, d := range s.Devices {
		opts = append(opts, oci.WithLinuxDevice(d, "rwm"))
	}
	if s.Privileged {
		// As Docker's --privileged: every capability hearthd has and every
		// host device, the kernel's files writable, no seccomp filter,
		// setuid programs work.
		return append(opts, oci.WithNewPrivileges, oci.WithAllCurrentCapabilities, withNoInheritableCaps, oci.WithMaskedPaths(nil), oci.WithReadonlyPaths(nil),
			oci.WithWriteableSysfs, oci.WithWriteableCgroupfs, oci.WithHostDevices, oci.WithAllDevicesAllowed), nil
	}
	caps := make([]string, 0, len(s.Capabilities))
	for _, c := range s.Capabilities {
		caps = append(caps, normalizeCap(c))
	}
	slices.Sort(caps)
	caps = slices.Compact(caps)
	// Capabilities before seccomp: the default profile allows the syscalls
	// that the kept capabilities need.
	opts = append(opts, oci.WithCapabilities(caps), withNoInheritableCaps, seccomp.WithDefaultProfile())
	return opts, nil
}

// withTmpfsOwnedByUser makes the container's user own its tmpfs folders.
// runc gives a tmpfs the mode of the folder it covers, and most images have
// a root-owned 0755 /run: without this the app could not write there. It
// must run after the user is known (also when resolved by name).
func withTmpfsOwnedByUser(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
	if s.Process == nil {
		return nil
	}
	uid, gid := s.Process.User.UID, s.Process.User.GID
	for i, m := range s.Mounts {
		if m.Type != "tmpfs" || m.Source != "tmpfs" || !tmpfsTarget(m.Destination) {
			continue
		}
		s.Mounts[i].Options = append(slices.Clone(m.Options), fmt.Sprintf("uid=%d", uid), fmt.Sprintf("gid=%d", gid))
	}
	return nil
}

// tmpfsTarget says whether a tmpfs at dst is one of the container's own
// (not /dev and the like).
func tmpfsTarget(dst string) bool {
	return dst != "/dev" && !strings.HasPrefix(dst, "/dev/")
}

// imageUserByName returns the image's (or spec's) user when it is a name
// that must be looked up in the image's /etc/passwd.
func imageUserByName(s ContainerSpec, img ocispec.ImageConfig) string {
	u := s.User
	if u == "" {
		u = img.User
	}
	if u == "" || userPattern.MatchString(u) {
		return ""
	}
	return u
}

func withNoInheritableCaps(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
	if s.Process != nil && s.Process.Capabilities != nil {
		s.Process.Capabilities.Inheritable = nil
		s.Process.Capabilities.Ambient = nil
	}
	return nil
}

func withSysctls(m map[string]string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		if s.Linux.Sysctl == nil {
			s.Linux.Sysctl = map[string]string{}
		}
		for k, v := range m {
			s.Linux.Sysctl[k] = v
		}
		return nil
	}
}

func mounts(s ContainerSpec, p hostPaths) []specs.Mount {
	tmpfs := func(target string, size int64) specs.Mount {
		if size <= 0 {
			size = 64 << 20
		}
		return specs.Mount{
			Destination: target,
			Type:        "tmpfs",
			Source:      "tmpfs",
			Options:     []string{"nosuid", "nodev", "mode=1777", fmt.Sprintf("size=%dk", size/1024)},
		}
	}
	ms := []specs.Mount{tmpfs("/tmp", 0), tmpfs("/run", 0)}
	for _, t := range s.Tmpfs {
		ms = append(ms, tmpfs(t.Target, t.SizeBytes))
	}
	for i, v := range s.Volumes {
		mode := "rw"
		if v.ReadOnly {
			mode = "ro"
		}
		ms = append(ms, specs.Mount{
			Destination: v.Target,
			Type:        "bind",
			Source:      p.Volumes[i],
			Options:     []string{"rbind", mode, "nosuid", "nodev"},
		})
	}
	for _, m := range s.HostMounts {
		mode := "rw"
		if m.ReadOnly {
			mode = "ro"
		}
		ms = append(ms, specs.Mount{
			Destination: m.Target,
			Type:        "bind",
			Source:      m.Source,
			Options:     []string{"rbind", mode, "nosuid", "nodev"},
		})
	}
	for i, f := range s.Files {
		ms = append(ms, specs.Mount{
			Destination: f.Target,
			Type:        "bind",
			Source:      p.Files[i],
			Options:     []string{"rbind", "ro", "nosuid", "nodev", "noexec"},
		})
	}
	for _, f := range []struct{ target, src string }{
		{"/etc/resolv.conf", p.ResolvConf},
		{"/etc/hosts", p.Hosts},
		{"/etc/hostname", p.Hostname},
	} {
		if f.src == "" {
			continue
		}
		ms = append(ms, specs.Mount{
			Destination: f.target,
			Type:        "bind",
			Source:      f.src,
			Options:     []string{"rbind", "ro", "nosuid", "nodev", "noexec"},
		})
	}
	return ms
}

// hostsFile is the container's /etc/hosts.
func hostsFile(hostname string) []byte {
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	fmt.Fprintf(&b, "127.0.1.1\t%s\n", hostname)
	return []byte(b.String())
}
