package compose

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/hearthbox/hearth/agent/manifest"
)

// maxValue bounds an environment value, as the manifest does.
const maxValue = 4096

// environment maps env_file (read inside the project folder) and
// environment; a variable listed without a value takes Hearth's, the
// options' or the .env file's, else it is left out.
func (t *translator) environment(name string, s types.ServiceConfig, out *manifest.Service) {
	env := map[string]string{}
	for i, f := range s.EnvFiles {
		key := fmt.Sprintf("env_file[%d]", i)
		rel := filepath.Clean(f.Path)
		if filepath.IsAbs(rel) || !filepath.IsLocal(rel) {
			t.refuse(name, key, "%s is outside the project folder", f.Path)
			return
		}
		data, ok, err := t.src.read(rel)
		switch {
		case errors.Is(err, errTooLarge), errors.Is(err, errOutside):
			t.refuse(name, key, "%s %s", f.Path, fileRefusal("", err).Reason)
			return
		case err != nil:
			t.err = err
			return
		case !ok && bool(f.Required):
			t.refuse(name, key, "%s does not exist in the project folder", f.Path)
			return
		case !ok:
			continue
		}
		m, err := dotenv.ParseWithLookup(bytes.NewReader(data), t.vars.value)
		if err != nil {
			t.refuse(name, key, "%s is not a valid env file: %v", f.Path, err)
			return
		}
		for k, v := range m {
			env[k] = v
		}
	}
	for _, k := range sortedKeys(s.Environment) {
		v := s.Environment[k]
		if v != nil {
			env[k] = *v
			continue
		}
		if val, ok := t.vars.value(k); ok {
			env[k] = val
		} else if _, fromFile := env[k]; !fromFile {
			t.warn(name, "environment."+k, "has no value here and is not set by Hearth, the options or the project's .env: it is left out")
		}
	}
	for _, k := range sortedKeys(env) {
		v, key := env[k], "environment."+k
		switch {
		case !envName.MatchString(k):
			t.warn(name, key, "is not a variable name Hearth can set (letters, digits and '_'): it is left out")
			delete(env, k)
		case strings.HasPrefix(strings.ToUpper(k), "HEARTH_"):
			t.warn(name, key, "names starting with HEARTH_ are Hearth's own: it is left out")
			delete(env, k)
		case len(v) > maxValue:
			t.refuse(name, key, "is %d bytes long, more than Hearth's %d", len(v), maxValue)
		case strings.IndexByte(v, 0) >= 0:
			t.refuse(name, key, "holds a NUL byte")
		}
	}
	if len(env) > 0 {
		out.Environment = env
	}
}
