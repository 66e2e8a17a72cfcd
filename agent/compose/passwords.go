package compose

import (
	"maps"
	"regexp"
	"slices"
	"strings"
)

// replaceSecrets turns the passwords the file writes as constants into
// generated settings: every variable whose name says it holds a secret
// (secretName), and the same constant where it is used as one elsewhere
// (a URL's password, a --password argument). The same constant under
// several names is one setting, so that a database and its client agree.
func (t *translator) replaceSecrets() {
	consts := maps.Clone(t.fileConsts) // constant -> what replaces it (a marker of its setting, with the shape's prefix and suffix)
	for _, name := range t.order {
		out := t.out[name]
		for _, k := range sortedKeys(out.Environment) {
			v := out.Environment[k]
			if !secretName(k) || flagValue(v) || hasMarker(v) || strings.Contains(v, dataMarker) {
				continue
			}
			if strings.TrimSpace(v) == "" {
				out.Environment[k] = t.refs.marker("settings." + t.secrets.forEmpty(name, k))
				continue
			}
			if _, ok := consts[v]; !ok {
				sh := shapeOf(v)
				consts[v] = sh.prefix + t.refs.marker("settings."+t.secrets.forConstant(k, v, sh.gen)) + sh.suffix
			}
			out.Environment[k] = consts[v]
		}
	}
	if len(consts) == 0 {
		return
	}
	var values []string
	for c := range consts {
		values = append(values, c)
	}
	slices.SortFunc(values, func(a, b string) int { // longest first
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	uses := passwordUses(values)
	for _, name := range t.order {
		out := t.out[name]
		for k, v := range out.Environment {
			out.Environment[k] = secretUses(v, uses, consts)
		}
		for _, args := range [][]string{out.Entrypoint, out.Command} {
			for i := range args {
				if i > 0 && passFlag(args[i-1]) && consts[args[i]] != "" {
					args[i] = consts[args[i]]
					continue
				}
				args[i] = secretUses(args[i], uses, consts)
			}
		}
		for i, f := range out.Files {
			out.Files[i].Content = secretUses(f.Content, uses, consts)
			for _, c := range values {
				if strings.Contains(out.Files[i].Content, c) && !hasMarker(c) {
					t.warn(name, "files", "a file given to the service holds the file's default password %q, now a generated setting: the file keeps the old value (use the variable, \"${VAR}\", in the file)", c)
					break
				}
			}
		}
		if hc := out.HealthCheck; hc != nil {
			for i, a := range hc.Command {
				if secretUses(a, uses, consts) != a || i > 0 && passFlag(hc.Command[i-1]) && consts[a] != "" {
					t.warn(name, "healthcheck.test", "passes the file's default password, now a generated setting, which a health check cannot refer to: the check keeps the old value and may fail (use the variable, \"$VAR\", in the check)")
				}
			}
		}
	}
}

var (
	urlPassword = regexp.MustCompile(`(://[^:/@\s]*:)([^@/\s]+)@`)
	flagWords   = regexp.MustCompile(`(?i)(pass|secret|token|key)`)
)

// passFlag reports whether a command argument is a flag whose value is a
// password (-p, --password, --requirepass, -a).
func passFlag(a string) bool {
	if a == "-p" || a == "-a" || a == "-P" {
		return true
	}
	return strings.HasPrefix(a, "-") && !strings.Contains(a, "=") && flagWords.MatchString(a)
}

// passwordUse finds one constant where a command uses it as a password:
// "--password=<it>", "--password <it>", "-p<it>", "-a <it>".
type passwordUse struct {
	constant string
	re       *regexp.Regexp
}

func passwordUses(values []string) []passwordUse {
	uses := make([]passwordUse, len(values))
	for i, c := range values {
		uses[i] = passwordUse{c, regexp.MustCompile(`((?:^|\s)(?:-p|--?[A-Za-z_-]*(?i:pass|secret|token|key)[A-Za-z_-]*[= ]+|-a\s+)["']?)` + regexp.QuoteMeta(c) + `(["']?(?:\s|$))`)}
	}
	return uses
}

// secretUses replaces the constants where s uses them as a password: a
// URL's password, or a password argument (inside a shell command too).
func secretUses(s string, uses []passwordUse, consts map[string]string) string {
	s = urlPassword.ReplaceAllStringFunc(s, func(m string) string {
		g := urlPassword.FindStringSubmatch(m)
		if r := consts[g[2]]; r != "" {
			return g[1] + r + "@"
		}
		return m
	})
	for _, u := range uses {
		if strings.Contains(s, u.constant) {
			s = u.re.ReplaceAllString(s, "${1}"+strings.ReplaceAll(consts[u.constant], "$", "$$")+"${2}")
		}
	}
	return s
}
