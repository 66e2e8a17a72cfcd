package compose

import (
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/hearthbox/hearth/agent/manifest"
)

// httpProbe recognises a health check that only asks the service's own
// web server for a page, with curl --fail or wget, and returns it as
// Hearth's HTTP check (healthy below 400, as both tools are), which needs
// neither tool nor a shell in the image. Anything else is kept as a
// command.
func httpProbe(test []string) (*manifest.HTTPCheck, bool) {
	var argv []string
	switch {
	case len(test) > 1 && test[0] == "CMD":
		argv = test[1:]
	case len(test) > 1 && test[0] == "CMD-SHELL":
		words, ok := shellWords(joinArgs(test[1:]))
		if !ok {
			return nil, false
		}
		argv = words
	default:
		return nil, false
	}
	if len(argv) < 2 {
		return nil, false
	}
	var rawURL string
	var ok bool
	switch path.Base(argv[0]) {
	case "curl":
		rawURL, ok = curlURL(argv[1:])
	case "wget":
		rawURL, ok = wgetURL(argv[1:])
	}
	if !ok {
		return nil, false
	}
	return localURL(rawURL)
}

// shellWords splits a simple shell command: words separated by spaces,
// optionally quoted whole, ending at most in "|| exit 1". Anything a shell
// would do more with (variables, globs, pipes, redirections) outside
// quotes is not simple.
func shellWords(s string) ([]string, bool) {
	s = strings.TrimSpace(s)
	for _, tail := range []string{"|| exit 1", "|| exit", "|| false"} {
		s = strings.TrimSpace(strings.TrimSuffix(s, tail))
	}
	var out []string
	for _, w := range strings.Fields(s) {
		switch {
		case len(w) >= 2 && w[0] == '\'' && w[len(w)-1] == '\'':
			w = w[1 : len(w)-1]
			if strings.ContainsRune(w, '\'') {
				return nil, false
			}
		case len(w) >= 2 && w[0] == '"' && w[len(w)-1] == '"':
			w = w[1 : len(w)-1]
			if strings.ContainsAny(w, "\"\\$`") {
				return nil, false
			}
		case strings.ContainsAny(w, "'\"\\$`;&|<>(){}*?[]~#"):
			return nil, false
		}
		out = append(out, w)
	}
	return out, len(out) > 0
}

// curlURL accepts curl's quiet, fail-on-error forms: --fail is required
// (without it curl succeeds on any answer, even 500).
func curlURL(args []string) (string, bool) {
	fail, u := false, ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--fail" || a == "--fail-with-body":
			fail = true
		case a == "--silent" || a == "--show-error" || a == "--location" || a == "--head" || a == "--no-progress-meter":
		case (a == "-o" || a == "--output") && i+1 < len(args) && args[i+1] == "/dev/null":
			i++
		case (a == "-m" || a == "--max-time" || a == "--connect-timeout" || a == "--retry") && i+1 < len(args):
			i++
		case strings.HasPrefix(a, "--max-time=") || strings.HasPrefix(a, "--connect-timeout="):
		case strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(a) > 1:
			for _, c := range a[1:] {
				switch c {
				case 'f':
					fail = true
				case 's', 'S', 'L', 'I':
				default:
					return "", false
				}
			}
		case u == "" && !strings.HasPrefix(a, "-"):
			u = a
		default:
			return "", false
		}
	}
	return u, fail && u != ""
}

// wgetURL accepts wget's quiet and spider forms; wget fails on 4xx and 5xx.
func wgetURL(args []string) (string, bool) {
	u := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-q" || a == "--quiet" || a == "--spider" || a == "-nv" || a == "--no-verbose" || a == "-qO-" || a == "-qO" || a == "-O-":
			if a == "-qO" && i+1 < len(args) {
				i++
			}
		case (a == "-O" || a == "-T" || a == "-t") && i+1 < len(args):
			if a == "-O" && args[i+1] != "-" && args[i+1] != "/dev/null" {
				return "", false
			}
			i++
		case strings.HasPrefix(a, "--tries=") || strings.HasPrefix(a, "--timeout=") || a == "--no-check-certificate":
		case u == "" && !strings.HasPrefix(a, "-"):
			u = a
		default:
			return "", false
		}
	}
	return u, u != ""
}

// localURL turns an http URL of the container itself into an HTTP check.
func localURL(raw string) (*manifest.HTTPCheck, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" {
		return nil, false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "0.0.0.0", "::1":
	default:
		return nil, false
	}
	port := 80
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, false
		}
		port = n
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, " \t") {
		return nil, false
	}
	return &manifest.HTTPCheck{Path: p, Port: port}, true
}
