package compose

import (
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/hearthbox/hearth/agent/manifest"
)

// maxFileContent is the manifest's limit of one file, in bytes.
const maxFileContent = 64 << 10

// files maps configs and secrets: read-only files of the service, written
// at install. A secret that is one word (a password, a token) is a
// generated setting, as a password of the environment is.
func (t *translator) files(name string, s types.ServiceConfig, out *manifest.Service) {
	for i, c := range s.Configs {
		key := fmt.Sprintf("configs[%d]", i)
		target := c.Target
		if target == "" {
			target = "/" + c.Source
		}
		obj, ok := t.proj.Configs[c.Source]
		if !ok {
			t.refuse(name, key, "%q is not one of the file's configs", c.Source)
			return
		}
		content, ok := t.fileContent(name, key, "config", c.Source, types.FileObjectConfig(obj))
		if !ok {
			return
		}
		t.addFile(name, key, target, content, types.FileReferenceConfig(c), out)
	}
	for i, c := range s.Secrets {
		key := fmt.Sprintf("secrets[%d]", i)
		target := c.Target
		if target == "" {
			target = c.Source
		}
		if !strings.HasPrefix(target, "/") {
			target = "/run/secrets/" + target
		}
		obj, ok := t.proj.Secrets[c.Source]
		if !ok {
			t.refuse(name, key, "%q is not one of the file's secrets", c.Source)
			return
		}
		content, ok := t.fileContent(name, key, "secret", c.Source, types.FileObjectConfig(obj))
		if !ok {
			return
		}
		t.addFile(name, key, target, t.secretContent(name, key, c.Source, content), types.FileReferenceConfig(c), out)
	}
}

// fileContent reads a config's or secret's content: inline, from a file
// of the project, or from a variable.
func (t *translator) fileContent(name, key, what, source string, obj types.FileObjectConfig) (string, bool) {
	switch {
	case bool(obj.External):
		t.refuse(name, key, "the %s %q is external (made outside the project): Hearth cannot give it", what, source)
		return "", false
	case obj.Driver != "" || obj.TemplateDriver != "":
		t.refuse(name, key, "the %s %q uses a driver: Hearth gives files of the project only", what, source)
		return "", false
	case obj.Content != "":
		return t.text(name, key, what, source, obj.Content)
	case obj.Environment != "":
		v, _ := t.vars.value(obj.Environment)
		return t.text(name, key, what, source, v)
	case obj.File == "":
		t.refuse(name, key, "the %s %q has no content, file or environment", what, source)
		return "", false
	}
	rel := path.Clean(obj.File)
	if path.IsAbs(rel) || !localPath(rel) {
		t.refuse(name, key, "the %s %q is the file %s, outside the project: Hearth gives files of the project only", what, source, obj.File)
		return "", false
	}
	data, ok, err := t.src.read(rel)
	switch {
	case err != nil:
		t.refuse(name, key, "the %s %q: %s %v", what, source, rel, err)
		return "", false
	case !ok:
		t.refuse(name, key, "the %s %q is the file %s, which the project does not have", what, source, rel)
		return "", false
	}
	return t.text(name, key, what, source, string(data))
}

// text refuses content that is not a text file Hearth can give.
func (t *translator) text(name, key, what, source, content string) (string, bool) {
	if reason := textReason(content); reason != "" {
		t.refuse(name, key, "the %s %q %s", what, source, reason)
		return "", false
	}
	return content, true
}

// textReason says why a file's content cannot be given, or "".
func textReason(content string) string {
	switch {
	case len(content) > maxFileContent:
		return fmt.Sprintf("is %d bytes long, more than Hearth's %d", len(content), maxFileContent)
	case !utf8.ValidString(content) || strings.IndexByte(content, 0) >= 0:
		return "is not text: Hearth gives text files only"
	}
	return ""
}

// localPath reports whether a clean relative path stays in the project.
func localPath(rel string) bool {
	return rel != ".." && !strings.HasPrefix(rel, "../") && rel != "."
}

// secretContent replaces a one-word secret of the project (a password, a
// token) by a generated setting; a longer one (a key file) is kept, with
// a warning.
func (t *translator) secretContent(name, key, source, content string) string {
	value := strings.TrimRight(content, "\r\n")
	switch {
	case hasMarker(value) || value == "":
		return content
	case strings.ContainsAny(value, " \t\r\n") || len(value) > 1024:
		t.warn(name, key, "the secret %q is given as the project has it: change it after install if it is a default", source)
		return content
	}
	sh := shapeOf(value)
	replaced := sh.prefix + t.refs.marker("settings."+t.secrets.forConstant(source, value, sh.gen)) + sh.suffix
	t.fileConsts[value] = replaced
	return replaced + content[len(value):]
}

// addFile checks and adds one file of the service.
func (t *translator) addFile(name, key, target, content string, ref types.FileReferenceConfig, out *manifest.Service) {
	target = path.Clean(target)
	if reason := mountTarget(target); reason != "" {
		t.refuse(name, key, "%s", reason)
		return
	}
	for _, v := range out.Volumes {
		if v.Target == target {
			t.warn(name, key, "%s is already used by a volume: left out", target)
			return
		}
	}
	for _, f := range out.Files {
		if f.Target == target {
			t.warn(name, key, "%s is already used by another file: left out", target)
			return
		}
	}
	if ref.UID != "" || ref.GID != "" || ref.Mode != nil {
		t.warn(name, key, "uid, gid and mode are not kept: the file is read-only and readable by every user")
	}
	out.Files = append(out.Files, manifest.File{Target: target, Content: content})
}
