package compose

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/hearthbox/hearth/agent/manifest"
)

// dataVolume is a volume in the app's data folder whose source is set once
// every service is known (see finishDataVolumes).
type dataVolume struct {
	service string
	index   int
	rel     string // below the data folder; "" is the data folder itself
}

// sharedRoots are the host folders whose sub-folders are the owner's files
// (media, downloads, documents): CasaOS's /DATA, the usual mount points,
// and the platforms' storage folders (as markers).
var sharedRoots = []string{"/DATA", "/media", "/mnt", "/srv", "/home", "/data", "/storage", "/share", "/shares",
	rootMarker + "/media", rootMarker + "/data/storage"}

// timeFiles carry the host's time zone; containers run in UTC (TZ).
var timeFiles = []string{"/etc/localtime", "/etc/timezone"}

// mounts maps volumes, volumes_from and tmpfs.
func (t *translator) mounts(name string, s types.ServiceConfig, out *manifest.Service) {
	targets := map[string]string{"/tmp": "the runtime's /tmp", "/run": "the runtime's /run"}
	vols := slices.Clone(s.Volumes)
	for _, from := range s.VolumesFrom {
		other, mode, _ := strings.Cut(strings.TrimPrefix(from, "service:"), ":")
		o, ok := t.proj.Services[other]
		if !ok {
			t.warn(name, "volumes_from", "%q is not a service of the app: left out", from)
			continue
		}
		for _, v := range o.Volumes {
			v.ReadOnly = v.ReadOnly || mode == "ro"
			vols = append(vols, v)
		}
	}
	for i, v := range vols {
		key := fmt.Sprintf("volumes[%d]", i)
		if i >= len(s.Volumes) {
			key = "volumes_from"
		}
		target := path.Clean(v.Target)
		if v.Type == types.VolumeTypeTmpfs {
			t.tmpfs(name, key, target, targets, out)
			continue
		}
		if v.Type == types.VolumeTypeBind && slices.Contains(timeFiles, v.Source) {
			t.warn(name, key, "%s is not mounted: containers run in UTC unless TZ says otherwise", v.Source)
			continue
		}
		if v.Type == types.VolumeTypeBind && strings.HasPrefix(v.Source, "/dev/") {
			t.device(name, key, v.Source, target, out)
			continue
		}
		if reason := mountTarget(target); reason != "" {
			t.refuse(name, key, "%s", reason)
			return
		}
		if prev, dup := targets[target]; dup {
			t.warn(name, key, "%s is already used by %s: left out", target, prev)
			continue
		}
		targets[target] = key
		switch v.Type {
		case types.VolumeTypeVolume:
			t.namedVolume(name, key, v, target, out)
		case types.VolumeTypeBind:
			t.bind(name, key, v, target, out)
		default:
			t.refuse(name, key, "volumes of type %q are not supported", v.Type)
		}
		if v.Bind != nil && v.Bind.Propagation != "" && v.Bind.Propagation != types.PropagationRPrivate {
			t.warn(name, key, "mount propagation %q is not kept", v.Bind.Propagation)
		}
		if t.refused != nil {
			return
		}
	}
	for _, tm := range s.Tmpfs {
		target, _, _ := strings.Cut(tm, ":")
		t.tmpfs(name, "tmpfs", path.Clean(target), targets, out)
	}
}

func (t *translator) tmpfs(name, key, target string, targets map[string]string, out *manifest.Service) {
	if target == "/tmp" || target == "/run" {
		return // always there
	}
	if reason := mountTarget(target); reason != "" {
		t.refuse(name, key, "%s", reason)
		return
	}
	if prev, dup := targets[target]; dup {
		t.warn(name, key, "%s is already used by %s: left out", target, prev)
		return
	}
	targets[target] = key
	out.Tmpfs = append(out.Tmpfs, target)
}

// namedVolume maps a named (or anonymous) volume to a folder of the
// app's data folder: volumes/<name>.
func (t *translator) namedVolume(name, key string, v types.ServiceVolumeConfig, target string, out *manifest.Service) {
	src := v.Source
	if src == "" {
		src = "anonymous" + strings.ReplaceAll(target, "/", "-")
		t.warn(name, key, "the anonymous volume at %s is kept in the data folder as volumes/%s", target, src)
	}
	if vc, ok := t.proj.Volumes[v.Source]; ok {
		if dev, ok := vc.DriverOpts["device"]; ok && strings.Contains(vc.DriverOpts["o"], "bind") {
			t.bind(name, key, types.ServiceVolumeConfig{Type: types.VolumeTypeBind, Source: dev, ReadOnly: v.ReadOnly}, target, out)
			return
		}
		if (vc.Driver != "" && vc.Driver != "local") || len(vc.DriverOpts) > 0 {
			t.refuse(name, key, "the volume %q uses the driver %q with options (%s): Hearth keeps volumes in the app's data folder", v.Source, firstNonEmpty(vc.Driver, "local"), strings.Join(sortedKeys(vc.DriverOpts), ", "))
			return
		}
		if vc.External {
			t.warn(name, key, "the external volume %q becomes a new, empty folder of the app", v.Source)
		}
	}
	out.Volumes = append(out.Volumes, manifest.Volume{Source: "volumes/" + src, Target: target, ReadOnly: v.ReadOnly})
}

// bind maps a bind mount: the app's data folder (APP_DATA_DIR,
// /DATA/AppData/<app>, a folder of the project), the owner's shared
// folders, or a refusal.
func (t *translator) bind(name, key string, v types.ServiceVolumeConfig, target string, out *manifest.Service) {
	src := v.Source
	if rel, ok := t.dataRel(src); ok {
		if bad := relReason(rel); bad != "" {
			t.refuse(name, key, "%s %s", t.refs.template(src), bad)
			return
		}
		if rel != "" && !strings.HasPrefix(src, "/") && t.src.exists2(rel) {
			t.refuse(name, key, "mounts the project's file %s: Hearth mounts folders of the app's data folder, not files (put the file in the image)", rel)
			return
		}
		if rel != "" && rel != "." && !strings.HasPrefix(src, "/") && t.src.isDir(rel) {
			t.warn(name, key, "the project's folder %s is not copied: the app's folder %s starts empty", rel, rel)
		}
		out.Volumes = append(out.Volumes, manifest.Volume{Target: target, ReadOnly: v.ReadOnly})
		t.dataVols = append(t.dataVols, dataVolume{service: name, index: len(out.Volumes) - 1, rel: rel})
		return
	}
	switch {
	case sharedFolder(src):
		fname := t.sharedName(out, src)
		t.perms[manifest.PermSharedFolders] = true
		out.SharedFolders = append(out.SharedFolders, manifest.SharedFolder{Name: fname, Target: target, ReadOnly: v.ReadOnly})
		t.warn(name, key, "%s becomes the shared folder %q: the owner picks which of their folders at install", t.refs.template(src), fname)
	default:
		t.hostVolume(name, key, v, target, out)
	}
}

// hostVolume maps a bind of any other host path: a host volume, which
// asks for "host-files" (or "container-engine" for Docker's or Podman's
// socket), unless the path is one Hearth never mounts.
func (t *translator) hostVolume(name, key string, v types.ServiceVolumeConfig, target string, out *manifest.Service) {
	src := v.Source
	if !path.IsAbs(src) || hasMarker(src) || strings.Contains(src, dataMarker) || strings.HasPrefix(src, rootMarker) {
		t.refuse(name, key, "mounts %s, a host path Hearth cannot place: only the app's data folder, the owner's folders and absolute host paths can be mounted", t.refs.template(src))
		return
	}
	src = path.Clean(src)
	if reason := manifest.HostPathReason(src, v.ReadOnly); reason != "" {
		t.refuse(name, key, "%s", reason)
		return
	}
	perm := manifest.HostPathPermission(src)
	t.perms[perm] = true
	out.Volumes = append(out.Volumes, manifest.Volume{Kind: manifest.VolumeHost, Source: src, Target: target, ReadOnly: v.ReadOnly})
	if perm == manifest.PermContainerEngine {
		t.warn(name, key, "mounts the container engine's socket %s (permission %q): Hearth runs no Docker, so the app installs only where the host has one", src, perm)
	}
}

// dataRel says whether a bind source is in the app's data folder, and
// where below it.
func (t *translator) dataRel(src string) (string, bool) {
	if rest, ok := strings.CutPrefix(src, dataMarker); ok && (rest == "" || rest[0] == '/') {
		return strings.Trim(path.Clean("/"+rest), "/"), true
	}
	if rest, ok := strings.CutPrefix(src, "/DATA/AppData/"); ok && rest != "" {
		_, below, _ := strings.Cut(rest, "/")
		return strings.Trim(path.Clean("/"+below), "/"), true
	}
	if rest, ok := strings.CutPrefix(src, rootMarker+"/app-data/"); ok {
		_, below, _ := strings.Cut(rest, "/")
		return strings.Trim(path.Clean("/"+below), "/"), true
	}
	if !strings.HasPrefix(src, "/") && !strings.HasPrefix(src, "~") && !strings.HasPrefix(src, "$") && !hasMarker(src) {
		return path.Clean(src), true // relative to the project's folder
	}
	return "", false
}

// relReason says why a folder relative to the data folder is not one.
func relReason(rel string) string {
	switch {
	case rel == ".." || strings.HasPrefix(rel, "../"):
		return "is outside the app's folder"
	case strings.ContainsAny(rel, "\\\x00") || hasMarker(rel):
		return "is not a folder name Hearth can use"
	}
	return ""
}

func (s *source) exists2(rel string) bool {
	ok, err := s.exists(rel)
	return err == nil && ok
}

// finishDataVolumes sets the data folder volumes' sources. When a service
// mounts the data folder itself, every data volume moves below "appdata"
// so that folders nested in it stay nested.
func (t *translator) finishDataVolumes() {
	whole := slices.ContainsFunc(t.dataVols, func(d dataVolume) bool { return d.rel == "" || d.rel == "." })
	for _, d := range t.dataVols {
		src := d.rel
		if src == "." {
			src = ""
		}
		if whole {
			src = strings.TrimSuffix("appdata/"+src, "/")
		}
		t.out[d.service].Volumes[d.index].Source = src
	}
}

// systemDirs are the host's own top-level folders (the filesystem
// hierarchy standard's); a host path below any other top-level folder
// (/DATA, /ROMS, /volume1) is the owner's.
var systemDirs = []string{"bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "opt", "proc", "root",
	"run", "sbin", "snap", "sys", "tmp", "usr", "var", "lost+found"}

// sharedFolder reports whether a host path is the owner's: below one of
// sharedRoots or a top-level folder that is not the system's, and not a
// platform's app data.
func sharedFolder(src string) bool {
	p := path.Clean(src)
	if p == "/" || p == "/DATA/AppData" || strings.HasPrefix(p, "/DATA/AppData/") || !path.IsAbs(p) || markerPattern.MatchString(p) {
		return false
	}
	for _, r := range sharedRoots {
		if p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	if strings.HasPrefix(p, rootMarker) {
		return false
	}
	top, _, _ := strings.Cut(p[1:], "/")
	return !slices.Contains(systemDirs, top)
}

// sharedName names a shared folder after its host path below its root
// ("/DATA/Media/TV Shows" is "media-tv-shows"), unique in the service.
func (t *translator) sharedName(out *manifest.Service, src string) string {
	p := path.Clean(src)
	for _, r := range []string{rootMarker, "/DATA", "/media", "/mnt", "/srv", "/home", "/storage", "/shares", "/share"} {
		if rest, ok := strings.CutPrefix(p, r+"/"); ok {
			p = rest
			break
		}
	}
	base := slugify(p, "folder")
	if base == "" {
		base = "data"
	}
	n := base
	for i := 2; slices.ContainsFunc(out.SharedFolders, func(f manifest.SharedFolder) bool { return f.Name == n }); i++ {
		n = numbered(base, "folder", i)
	}
	return n
}

// mountTarget says why a container path cannot be mounted on (the
// manifest's rule).
func mountTarget(t string) string {
	if !path.IsAbs(t) {
		return fmt.Sprintf("%q must be an absolute path", t)
	}
	for _, bad := range []string{"/", "/proc", "/sys", "/dev", "/etc/resolv.conf", "/etc/hosts", "/etc/hostname"} {
		if t == bad || (bad != "/" && strings.HasPrefix(t, bad+"/")) {
			return fmt.Sprintf("Hearth may not mount over %s", t)
		}
	}
	if strings.IndexFunc(t, func(r rune) bool { return r < ' ' || r == 0x7f || r == ',' || r == ':' }) >= 0 {
		return fmt.Sprintf("%q holds commas, colons or control characters, which Hearth cannot mount on", t)
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
