package compose

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/hearthbox/hearth/agent/manifest"
)

// translator holds one import's state. Its methods add warnings and
// refusals as they go; the first refusal is the one reported.
type translator struct {
	src     *source
	opts    Options
	kind    string
	meta    meta
	appID   string
	doc     *doc
	refs    *refs
	vars    *vars
	secrets *secrets
	proj    *types.Project

	order     []string          // enabled compose services, in file order
	names     map[string]string // compose service -> manifest service
	hosts     map[string]string // a host name the file uses -> compose service
	platforms []string          // the image platforms every service gets
	out       map[string]*manifest.Service
	ports     map[string][]portSpec // compose service -> its declared ports
	hostNet   map[string]bool       // compose services with network_mode host
	dataVols  []dataVolume          // volumes in the app's data folder
	// fileConsts are the secrets' constants (files of the project) and
	// what replaces them, also where the environment uses them.
	fileConsts map[string]string
	memory     map[string]memory // compose service -> its memory needs
	perms      map[manifest.Permission]bool
	web        webEntry

	manifestOut *manifest.Manifest

	warnings []Warning
	warned   map[string]bool
	refused  *Refusal
	err      error // an I/O error met on the way
}

func translate(ctx context.Context, src *source, opts Options) (*Plan, error) {
	r := newRefs()
	t := &translator{
		src: src, opts: opts, refs: r, secrets: newSecrets(),
		names: map[string]string{}, hosts: map[string]string{}, out: map[string]*manifest.Service{},
		ports: map[string][]portSpec{}, hostNet: map[string]bool{}, memory: map[string]memory{},
		perms: map[manifest.Permission]bool{}, warned: map[string]bool{}, fileConsts: map[string]string{},
	}
	if err := t.run(ctx); err != nil {
		return nil, err
	}
	return t.plan(), nil
}

// warn notes something mapped approximately or left out, once per
// service, key and message.
func (t *translator) warn(service, key, format string, args ...any) {
	w := Warning{Service: service, Key: key, Message: fmt.Sprintf(format, args...)}
	if k := w.String(); !t.warned[k] {
		t.warned[k] = true
		t.warnings = append(t.warnings, w)
	}
}

// refuse notes why the project cannot be installed; the first one counts.
func (t *translator) refuse(service, key, format string, args ...any) {
	if t.refused != nil {
		return
	}
	t.refused = &Refusal{Service: service, Key: key, Reason: fmt.Sprintf(format, args...)}
	if t.doc != nil && (service != "" || key != "") {
		t.refused.File = t.src.file
		t.refused.Line = t.doc.line(service, key)
	}
}

func (t *translator) run(ctx context.Context) error {
	if t.src.file == "" {
		t.refuse("", "", "no compose file: looked for %s", strings.Join(composeNames, ", "))
		return nil
	}
	data, ok, err := t.src.read(t.src.file)
	switch {
	case errors.Is(err, errTooLarge), errors.Is(err, errOutside):
		t.refused = fileRefusal(t.src.file, err)
		return nil
	case err != nil:
		return err
	case !ok:
		t.refused = &Refusal{File: t.src.file, Reason: "is not a regular file"}
		return nil
	}
	d, r := parseDoc(t.src.file, data)
	if r != nil {
		t.refused = r
		return nil
	}
	t.doc = d
	if err := t.readMeta(); err != nil || t.refused != nil {
		return err
	}
	t.chooseID()
	t.preparePlatforms()
	if t.refused != nil {
		return nil
	}
	if err := t.load(ctx); err != nil || t.refused != nil {
		return err
	}
	t.services()
	if t.err != nil || t.refused != nil {
		return t.err
	}
	t.webAndPorts()
	t.replaceSecrets()
	t.rewriteHosts()
	t.finishServices()
	if t.refused != nil {
		return nil
	}
	t.manifest()
	return nil
}

// fileRefusal refuses a file too large or outside the folder.
func fileRefusal(name string, err error) *Refusal {
	if errors.Is(err, errOutside) {
		return &Refusal{File: name, Reason: "is a symbolic link that leads outside the project folder"}
	}
	return &Refusal{File: name, Reason: fmt.Sprintf("is larger than %d MiB", maxFile>>20)}
}

// chooseID picks the app's id: the option, else the platform's id, else
// the compose file's project name, else the folder's name.
func (t *translator) chooseID() {
	switch name := scalar(mapGet(t.doc.top, "name")); {
	case t.opts.AppID != "":
		t.appID = t.opts.AppID
	case slugify(t.meta.id, "app") != "":
		t.appID = slugify(t.meta.id, "app")
	case slugify(name, "app") != "" && !strings.Contains(name, "$"):
		t.appID = slugify(name, "app")
	default:
		t.appID = slugify(filepath.Base(t.src.dir), "app")
	}
	if t.appID == "" {
		t.appID = "app"
	}
}

// preparePlatforms decides the image platforms: those the platform's
// metadata lists (of linux/amd64 and linux/arm64), else the box's.
func (t *translator) preparePlatforms() {
	if t.meta.architectures == nil {
		t.platforms = []string{t.opts.Platform}
		return
	}
	for _, a := range t.meta.architectures {
		p := "linux/" + strings.TrimPrefix(strings.ToLower(strings.TrimSpace(a)), "linux/")
		if (p == manifest.PlatformAMD64 || p == manifest.PlatformARM64) && !slices.Contains(t.platforms, p) {
			t.platforms = append(t.platforms, p)
		}
	}
	slices.Sort(t.platforms)
	if !slices.Contains(t.platforms, t.opts.Platform) {
		t.refuse("", "architectures", "the app is made for %s, not for this box's %s", strings.Join(t.meta.architectures, ", "), t.opts.Platform)
	}
}

// plan assembles the result.
func (t *translator) plan() *Plan {
	p := &Plan{Kind: t.kind, Warnings: t.warnings}
	if p.Kind == "" {
		p.Kind = KindCompose
	}
	if t.refused != nil {
		p.Refused = t.refused
		return p
	}
	p.Manifest = t.manifestOut
	p.Permissions = p.Manifest.Permissions
	return p
}
