package compose

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
)

// load parses the project with compose-go: interpolation (with vars),
// extends, profiles and its validation, but no path resolution against the
// host, no env_file reading (done by envFiles, inside the folder) and no
// include.
func (t *translator) load(ctx context.Context) error {
	fixed := fixedValues(t.kind, t.appID, t.refs, t.meta.webPort)
	t.vars = &vars{
		fixed: fixed, extra: t.opts.Env, file: t.meta.defaults, settings: t.formVariables(),
		refs: t.refs, secrets: t.secrets, missing: map[string]bool{}, used: map[string]bool{},
	}
	if t.kind == KindUmbrel {
		t.vars.fixed["UMBREL_ROOT"] = rootMarker
	}
	// CasaOS's x-casaos extensions (read by readMeta) are large, localized
	// texts compose-go has no use for.
	mapDelete(t.doc.top, "x-casaos")
	for _, name := range t.doc.serviceOrder() {
		mapDelete(mapGet(t.doc.services(), name), "x-casaos")
	}
	content, err := t.doc.bytes()
	if err != nil {
		t.refused = &Refusal{File: t.src.file, Reason: "cannot be read back: " + err.Error()}
		return nil
	}
	details := types.ConfigDetails{
		WorkingDir:  t.src.dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(t.src.dir, t.src.file), Content: content}},
		Environment: types.Mapping{},
	}
	if t.src.override != "" {
		data, _, err := t.readSide(t.src.override)
		if err != nil || t.refused != nil {
			return err
		}
		details.ConfigFiles = append(details.ConfigFiles, types.ConfigFile{Filename: filepath.Join(t.src.dir, t.src.override), Content: data})
	}
	proj, err := loader.LoadWithContext(ctx, details, func(o *loader.Options) {
		o.SetProjectName(t.appID, true)
		o.ResolvePaths = false
		o.SkipResolveEnvironment = true
		o.SkipResolveLabels = true
		o.SkipInclude = true
		o.ResourceLoaders = []loader.ResourceLoader{confined{src: t.src}}
		o.Interpolate.LookupValue = t.vars.value
		o.Interpolate.Substitute = t.vars.substitute
	})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("import: %w", ctx.Err())
		}
		t.loadRefusal(err)
		return nil
	}
	t.proj = proj
	if strings.Contains(t.meta.webPort, "$") {
		if p, err := template.SubstituteWithOptions(t.meta.webPort, t.vars.value, template.WithoutLogging); err == nil {
			t.meta.webPort = p
		}
	}
	for _, name := range t.vars.approximations() {
		t.warn("", "${"+name+"}", "%s", approximate[name])
	}
	for _, name := range t.vars.missingNames() {
		t.warn("", "${"+name+"}", "the variable is not set by Hearth, the options or the project's .env: it is empty")
	}
	return nil
}

var (
	servicePath = regexp.MustCompile(`services\.([A-Za-z0-9_.-]+?)\.([a-z_]+)`)
	serviceName = regexp.MustCompile(`service "([^"]+)"`)
)

// loadRefusal turns compose-go's error into a Refusal naming the file,
// and the service, key and line when the message says them.
func (t *translator) loadRefusal(err error) {
	msg := strings.ReplaceAll(err.Error(), t.src.dir+string(os.PathSeparator), "")
	msg = strings.ReplaceAll(msg, t.src.dir, ".")
	msg = t.refs.template(msg)
	r := &Refusal{File: t.src.file, Reason: "not a valid compose file: " + msg}
	if m := servicePath.FindStringSubmatch(msg); m != nil {
		r.Service, r.Key = m[1], m[2]
	} else if m := serviceName.FindStringSubmatch(msg); m != nil && mapGet(t.doc.services(), m[1]) != nil {
		r.Service = m[1]
	}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		r.Line, _ = strconv.Atoi(m[1])
	} else if r.Service != "" {
		r.Line = t.doc.line(r.Service, r.Key)
	}
	t.refused = r
}

// confined is compose-go's resource loader for extends: files inside the
// project's folder only.
type confined struct{ src *source }

func (confined) Accept(string) bool { return true }

func (c confined) Load(_ context.Context, p string) (string, error) {
	rel := p
	if filepath.IsAbs(p) {
		r, err := filepath.Rel(c.src.dir, p)
		if err != nil {
			return "", fmt.Errorf("%s is outside the project folder", p)
		}
		rel = r
	}
	rel = filepath.Clean(rel)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%s is outside the project folder", p)
	}
	fi, err := c.src.root.Stat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%s does not exist in the project folder", p)
	case err != nil:
		return "", fmt.Errorf("%s: %w", p, err)
	case !fi.Mode().IsRegular():
		return "", fmt.Errorf("%s is not a regular file", p)
	}
	return filepath.Join(c.src.dir, rel), nil
}

func (c confined) Dir(p string) string {
	if rel, err := filepath.Rel(c.src.dir, p); err == nil && filepath.IsLocal(rel) {
		return filepath.Dir(rel)
	}
	return "."
}
