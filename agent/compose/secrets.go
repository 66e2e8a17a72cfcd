package compose

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/hearthbox/hearth/agent/manifest"
)

// A name is a secret's when one of its words (split at anything but
// letters and digits) is one of secretWords, or one is KEY and another one
// of keyWords; unless its last word says it is about a secret, not one
// (PASSWORD_FILE, TOKEN_TTL, SECRET_PATH).
var (
	secretWords = words("PASSWORD PASSWD PASS PWD SECRET SECRETKEY TOKEN SALT SEED APIKEY AUTHKEY JWTSECRET PASSPHRASE PSK PRIVATEKEY")
	keyWords    = words("SECRET APP ENCRYPTION SIGNING PRIVATE MASTER JWT SESSION COOKIE AES API ACCESS AUTH ADMIN CRYPT HMAC HASH")
	notSecret   = words("FILE PATH DIR LENGTH LEN EXPIRY EXPIRE EXPIRES EXPIRATION TTL TIME TIMEOUT ENABLED ENABLE DISABLED DISABLE REQUIRED NAME TYPE ALGORITHM ALGO POLICY MIN MAX RESET URL URI HEADER FIELD PROVIDER MODE LOCATION ID USER USERNAME")
	// Credentials of other services, which the owner types in (an API key
	// of an AI provider, a mail password, a VPN's auth key).
	outsideWords = words("API APIKEY ACCESS CLIENT COOKIE AUTHKEY REFRESH WEBHOOK BOT SMTP MAIL EMAIL S3 AWS OPENAI ANTHROPIC GEMINI CLAUDE TELEGRAM DISCORD SLACK GITHUB GOOGLE TWINGATE STRIPE ZOOM")
	flagValues   = words("TRUE FALSE YES NO ON OFF 0 1")
)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

var nonAlnum = regexp.MustCompile(`[^A-Za-z0-9]+`)

func nameWords(name string) []string {
	var out []string
	for _, w := range nonAlnum.Split(strings.ToUpper(name), -1) {
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// secretName reports whether a variable's name says it holds a password,
// secret, token, key or seed.
func secretName(name string) bool {
	ws := nameWords(name)
	if len(ws) == 0 || notSecret[ws[len(ws)-1]] {
		return false
	}
	for i, w := range ws {
		if secretWords[w] {
			return true
		}
		if w == "KEY" {
			for j, p := range ws {
				if j != i && keyWords[p] {
					return true
				}
			}
		}
	}
	return false
}

// outsideCredential reports whether a secret's name says it is a
// credential of some other service, which only the owner can give.
func outsideCredential(name string) bool {
	for _, w := range nameWords(name) {
		if outsideWords[w] {
			return true
		}
	}
	return false
}

// flagValue reports whether a value is a switch, not a password
// (MARIADB_RANDOM_ROOT_PASSWORD=yes).
func flagValue(v string) bool { return flagValues[strings.ToUpper(strings.TrimSpace(v))] }

// secrets collects the settings that replace the file's passwords.
type secrets struct {
	mu      sync.Mutex
	list    []manifest.Setting
	ids     map[string]bool
	byVar   map[string]string // variable or key -> setting id
	byConst map[string]string // the file's constant -> setting id
}

func newSecrets() *secrets {
	return &secrets{ids: map[string]bool{}, byVar: map[string]string{}, byConst: map[string]string{}}
}

// forVariable returns the setting of a variable such as ${DB_PASSWORD}:
// generated, or typed by the owner for another service's credential.
func (s *secrets) forVariable(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.byVar["$"+name]; ok {
		return id
	}
	var st manifest.Setting
	if outsideCredential(name) {
		st = typedSetting(s.newID(name), name)
	} else {
		st = generatedSetting(s.newID(name), name, nil)
	}
	s.list = append(s.list, st)
	s.byVar["$"+name] = st.ID
	return st.ID
}

// forEmpty returns the setting for a password key the file leaves empty.
func (s *secrets) forEmpty(service, key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := service + "/" + key
	if id, ok := s.byVar[k]; ok {
		return id
	}
	var st manifest.Setting
	if outsideCredential(key) {
		st = typedSetting(s.newID(key), key)
	} else {
		st = generatedSetting(s.newID(key), key, nil)
	}
	s.list = append(s.list, st)
	s.byVar[k] = st.ID
	return st.ID
}

// forConstant returns the generated setting that replaces the constant
// value of a password key; the same constant under several keys (a
// database's password and its client's) is one setting.
func (s *secrets) forConstant(key, value string, g manifest.Generate) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.byConst[value]; ok {
		return id
	}
	st := generatedSetting(s.newID(key), key, &g)
	s.list = append(s.list, st)
	s.byConst[value] = st.ID
	return st.ID
}

// newID derives a unique setting id from a variable name. The caller holds mu.
func (s *secrets) newID(name string) string {
	base := strings.ToLower(strings.Join(nameWords(name), "_"))
	if base == "" || base[0] < 'a' || base[0] > 'z' {
		base = "secret_" + base
	}
	base = strings.TrimSuffix(base, "_")
	if len(base) > 56 {
		base = strings.TrimRight(base[:56], "_")
	}
	id := base
	for i := 2; s.ids[id]; i++ {
		id = base + "_" + strconv.Itoa(i)
	}
	s.ids[id] = true
	return id
}

// settings returns the settings whose ids are in used, in creation order.
func (s *secrets) settings(used map[string]bool) []manifest.Setting {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []manifest.Setting
	for _, st := range s.list {
		if used[st.ID] {
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(a, b manifest.Setting) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// generatedSetting is a secret generated at install: 32 letters and
// digits unless g says otherwise; a seed is 64 hex digits.
func generatedSetting(id, name string, g *manifest.Generate) manifest.Setting {
	gen := manifest.Generate{Length: 32, Charset: manifest.CharsetAlnum}
	if g != nil {
		gen = *g
	}
	if ws := nameWords(name); len(ws) > 0 && ws[len(ws)-1] == "SEED" {
		gen = manifest.Generate{Length: 64, Charset: manifest.CharsetHex}
	}
	return manifest.Setting{
		ID:          id,
		Label:       label(name + " (generated)"),
		Description: "Generated at install for this app; the compose file's value is never used.",
		Type:        manifest.TypeSecret,
		Generate:    &gen,
	}
}

// shape is how a generated secret replaces a constant of the file so that
// it keeps the constant's form: a 64-digit hex key stays 64 hex digits, a
// base64 key ("base64:...=") keeps its prefix, length and padding.
type shape struct {
	prefix, suffix string
	gen            manifest.Generate
}

func shapeOf(constant string) shape {
	s := shape{gen: manifest.Generate{Length: 32, Charset: manifest.CharsetAlnum}}
	body := constant
	if b, ok := strings.CutPrefix(body, "base64:"); ok {
		s.prefix, body = "base64:", b
	}
	trimmed := strings.TrimRight(body, "=")
	pad, n := len(body)-len(trimmed), len(trimmed)
	if n < 16 || n > 1024 || pad > 2 {
		return s
	}
	switch {
	case pad == 0 && hexOnly.MatchString(trimmed):
		s.gen = manifest.Generate{Length: n, Charset: manifest.CharsetHex}
	case pad == 0 && alnumOnly.MatchString(trimmed):
		s.gen = manifest.Generate{Length: n, Charset: manifest.CharsetAlnum}
	case pad == 0 && b64urlOnly.MatchString(trimmed):
		s.gen = manifest.Generate{Length: n, Charset: manifest.CharsetBase64URL}
	case stdB64.MatchString(trimmed):
		// letters and digits are base64 too; the padding stays literal
		s.gen, s.suffix = manifest.Generate{Length: n, Charset: manifest.CharsetAlnum}, body[n:]
	}
	return s
}

// typedSetting is another service's credential, typed by the owner.
func typedSetting(id, name string) manifest.Setting {
	return manifest.Setting{
		ID:          id,
		Label:       label(name),
		Description: "A credential of another service the app uses; leave it empty if you do not use that service.",
		Type:        manifest.TypePassword,
	}
}

var (
	hexOnly    = regexp.MustCompile(`^[0-9a-f]+$`)
	alnumOnly  = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	b64urlOnly = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	stdB64     = regexp.MustCompile(`^[A-Za-z0-9+/]+$`)
)

// label makes a one-line setting label of at most 80 characters.
func label(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 80 {
		s = strings.TrimSpace(string(r[:79])) + "…"
	}
	if s == "" {
		s = "Value"
	}
	return s
}
