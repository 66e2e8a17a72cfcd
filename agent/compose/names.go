package compose

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var notSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slugify makes a manifest slug of s ([a-z][a-z0-9-]{0,30}[a-z0-9]):
// lower case, other characters as '-', prefix put before a leading digit
// or a single character; "" when nothing is left.
func slugify(s, prefix string) string {
	s = strings.Trim(notSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if s == "" {
		return ""
	}
	if s[0] < 'a' || s[0] > 'z' || len(s) < 2 {
		s = prefix + "-" + s
	}
	if len(s) > 32 {
		s = s[:32]
	}
	return strings.TrimRight(s, "-")
}

// numbered returns slug base with "-i" at its end, within 32 characters.
func numbered(base, fallback string, i int) string {
	if base == "" {
		base = fallback
	}
	suffix := "-" + strconv.Itoa(i)
	if len(base)+len(suffix) > 32 {
		base = strings.TrimRight(base[:32-len(suffix)], "-")
	}
	return base + suffix
}

// nameServices gives each compose service its manifest name (a slug) and
// collects the host names the file reaches it by.
func (t *translator) nameServices() {
	used := map[string]bool{}
	for _, name := range t.order {
		n := slugify(name, "svc")
		for i := 2; used[n] || n == ""; i++ {
			n = numbered(slugify(name, "svc"), "svc", i)
		}
		used[n] = true
		t.names[name] = n
		if n != name {
			t.warn(name, "", "the service is named %q on Hearth (names are 2-32 characters of a-z, 0-9 and '-'); references to %q in environment and commands are rewritten", n, name)
		}
	}
	projects := []string{t.appID, t.proj.Name, t.meta.id, scalar(mapGet(t.doc.top, "name"))}
	for _, name := range t.order {
		s := t.proj.Services[name]
		t.addHost(name, name)
		for _, p := range projects {
			if p != "" {
				t.addHost(p+"_"+name+"_1", name)
				t.addHost(p+"-"+name+"-1", name)
			}
		}
		if c := s.ContainerName; c != "" && c != t.names[name] {
			t.addHost(c, name)
			t.warn(name, "container_name", "%q is not a container name on Hearth (the service is reached as %q): references to it in environment and commands are rewritten, others (in config files) are not", c, t.names[name])
		}
		for _, net := range sortedKeys(s.Networks) {
			cfg := s.Networks[net]
			if cfg == nil {
				continue
			}
			for _, a := range cfg.Aliases {
				t.addHost(a, name)
				t.warn(name, "networks."+net+".aliases", "the alias %q is not a name on Hearth: references to it in environment and commands are rewritten", a)
			}
		}
	}
	for _, name := range t.order {
		for _, l := range t.proj.Services[name].Links {
			dep, alias, ok := strings.Cut(l, ":")
			if ok && alias != dep {
				if _, known := t.proj.Services[dep]; known {
					t.addHost(alias, dep)
				}
			}
		}
	}
}

// addHost notes that host reaches service, unless another service already
// has that name.
func (t *translator) addHost(host, service string) {
	if host == "" {
		return
	}
	if _, taken := t.hosts[host]; !taken {
		t.hosts[host] = service
	}
}

// serviceByHost returns the compose service a host name reaches, or "".
func (t *translator) serviceByHost(host string) string {
	if s, ok := t.hosts[host]; ok {
		return s
	}
	return t.hosts[strings.ToLower(host)]
}

// rewriteHosts replaces, in environment values and commands, the host
// names the agent does not provide (container_name, aliases, renamed
// services, another project's prefix) with {{services.<name>.host}}; in
// health checks, which hold no references, with the service's name. A name
// is replaced where it is used as a host: in a URL, before ":port", or as
// the value of a variable whose name says it holds a host.
func (t *translator) rewriteHosts() {
	var hosts []string
	for h, svc := range t.hosts {
		if h != t.names[svc] && h != t.appID+"_"+t.names[svc]+"_1" {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return
	}
	// longest first, so that "db-replica" is not taken for "db"
	slices.SortFunc(hosts, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	for _, name := range t.order {
		out := t.out[name]
		for k, v := range out.Environment {
			out.Environment[k] = t.replaceHosts(v, hosts, true, hostKey(k))
		}
		for i := range out.Entrypoint {
			out.Entrypoint[i] = t.replaceHosts(out.Entrypoint[i], hosts, true, false)
		}
		for i := range out.Command {
			out.Command[i] = t.replaceHosts(out.Command[i], hosts, true, false)
		}
		if hc := out.HealthCheck; hc != nil {
			for i := range hc.Command {
				hc.Command[i] = t.replaceHosts(hc.Command[i], hosts, false, false)
			}
		}
	}
}

var hostWords = words("HOST HOSTNAME HOSTS URL URI ADDR ADDRESS SERVER SERVERS ENDPOINT DSN CONNECTION BROKER UPSTREAM BACKEND")

// hostKey reports whether a variable's name says it holds a host.
func hostKey(k string) bool {
	for _, w := range nameWords(k) {
		if hostWords[w] {
			return true
		}
	}
	return false
}

// replaceHosts replaces each host name of hosts used as a host in s by a
// marker of its service's host reference (ref) or its plain name.
func (t *translator) replaceHosts(s string, hosts []string, ref, whole bool) string {
	for _, h := range hosts {
		if !strings.Contains(s, h) {
			continue
		}
		svc := t.names[t.hosts[h]]
		with := svc
		if ref {
			with = t.refs.marker("services." + svc + ".host")
		}
		var b strings.Builder
		i := 0
		for {
			j := strings.Index(s[i:], h)
			if j < 0 {
				b.WriteString(s[i:])
				break
			}
			j += i
			end := j + len(h)
			b.WriteString(s[i:j])
			if isHostAt(s, j, end, whole) {
				b.WriteString(with)
			} else {
				b.WriteString(h)
			}
			i = end
		}
		s = b.String()
	}
	return s
}

// isHostAt reports whether s[j:end] is a whole name used as a host.
func isHostAt(s string, j, end int, whole bool) bool {
	if j > 0 && (hostChar(s[j-1]) || s[j-1] == '.') {
		return false
	}
	if end < len(s) && (hostChar(s[end]) || s[end] == '.' && end+1 < len(s) && hostChar(s[end+1])) {
		return false
	}
	rest := s[end:]
	switch {
	case strings.HasPrefix(rest, "://"):
		return false // a URL scheme
	case strings.HasSuffix(s[:j], "://") || strings.HasSuffix(s[:j], "@"):
		return true
	case len(rest) > 1 && rest[0] == ':' && rest[1] >= '0' && rest[1] <= '9':
		return true
	}
	return whole
}

func hostChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
