package state

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxText is how many bytes of free text (operation errors, step and
// activity details, a catalog's last error) are kept; longer text is cut.
const MaxText = 4096

var zeroTime time.Time

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// clock is the store's now, in UTC without a monotonic reading.
func (s *Store) clock() time.Time { return s.now().UTC().Round(0) }

// isSlug reports whether s is an app or catalog id:
// [a-z][a-z0-9-]{0,30}[a-z0-9].
func isSlug(s string) bool {
	if len(s) < 2 || len(s) > 32 || s[0] < 'a' || s[0] > 'z' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func checkSlug(field, s string) error {
	if !isSlug(s) {
		return &FieldError{Field: field, Reason: fmt.Sprintf("%q must be 2-32 characters of a-z, 0-9 and '-', starting with a letter and not ending with '-'", s)}
	}
	return nil
}

// checkOpID accepts 1-64 characters of A-Z, a-z, 0-9, '_' and '-'.
func checkOpID(field, s string) error {
	ok := len(s) >= 1 && len(s) <= 64
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	if !ok {
		return &FieldError{Field: field, Reason: fmt.Sprintf("%q must be 1-64 characters of A-Z, a-z, 0-9, '_' and '-'", s)}
	}
	return nil
}

// checkText accepts printable UTF-8 of at most max bytes, and empty text
// only when not required.
func checkText(field, s string, max int, required bool) error {
	switch {
	case s == "" && required:
		return &FieldError{Field: field, Reason: "must not be empty"}
	case len(s) > max:
		return &FieldError{Field: field, Reason: fmt.Sprintf("is %d bytes, more than %d", len(s), max)}
	case !utf8.ValidString(s):
		return &FieldError{Field: field, Reason: "is not valid UTF-8"}
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return &FieldError{Field: field, Reason: "must not hold control characters"}
	}
	return nil
}

// checkWord accepts the tokens of versions and actions: printable, no
// spaces.
func checkWord(field, s string, max int, required bool) error {
	if err := checkText(field, s, max, required); err != nil {
		return err
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return &FieldError{Field: field, Reason: fmt.Sprintf("%q must not hold spaces", s)}
	}
	return nil
}

func checkJSON(field string, raw json.RawMessage, object, required bool) error {
	switch {
	case len(raw) == 0 && required:
		return &FieldError{Field: field, Reason: "must not be empty"}
	case len(raw) == 0:
		return nil
	case !json.Valid(raw):
		return &FieldError{Field: field, Reason: "is not valid JSON"}
	case object && !bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("{")):
		return &FieldError{Field: field, Reason: "must be a JSON object"}
	}
	return nil
}

// checkMap accepts keys that are words of at most 128 bytes and values of
// valid UTF-8 of at most 64 KiB.
func checkMap(field string, m map[string]string) []error {
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(m)) {
		p := field + "." + k
		if err := checkWord(p, k, 128, true); err != nil {
			errs = append(errs, err)
		}
		if v := m[k]; len(v) > 64<<10 || !utf8.ValidString(v) {
			errs = append(errs, &FieldError{Field: p, Reason: "value must be valid UTF-8 of at most 64 KiB"})
		}
	}
	return errs
}

func oneOf(field, s string, allowed ...string) error {
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	return &FieldError{Field: field, Reason: fmt.Sprintf("%q must be one of %s", s, strings.Join(allowed, ", "))}
}

func validateApp(a App) error {
	errs := []error{
		checkSlug("id", a.ID),
		checkWord("version", a.Version, 128, true),
		checkJSON("manifest", a.Manifest, true, true),
		oneOf("wanted", a.Wanted, WantRunning, WantStopped, WantPending),
		checkWord("previousVersion", a.PreviousVersion, 128, false),
		checkJSON("previousManifest", a.PreviousManifest, true, false),
	}
	if a.CatalogID != "" {
		errs = append(errs, checkSlug("catalogId", a.CatalogID))
	}
	if (a.PreviousVersion == "") != (len(a.PreviousManifest) == 0) {
		errs = append(errs, &FieldError{Field: "previousManifest", Reason: "previousVersion and previousManifest are set together or not at all"})
	}
	errs = append(errs, checkMap("settings", a.Settings)...)
	errs = append(errs, checkMap("secrets", a.Secrets)...)
	errs = append(errs, checkMap("previousSettings", a.PreviousSettings)...)
	return errors.Join(errs...)
}

func validateOp(op Operation) error {
	errs := []error{
		checkOpID("id", op.ID),
		checkSlug("app", op.App),
		oneOf("kind", op.Kind, KindInstall, KindStart, KindStop, KindRestart, KindUpdate, KindRollback, KindUninstall, KindBackup, KindRestore),
		checkJSON("params", op.Params, false, false),
		oneOf("state", op.State, OpRunning, OpDone, OpFailed, OpRolledBack),
		checkText("actor", op.Actor, 128, true),
	}
	if !op.Ended.IsZero() && op.Ended.Before(op.Started) {
		errs = append(errs, &FieldError{Field: "ended", Reason: "is before started"})
	}
	for i, st := range op.Steps {
		p := fmt.Sprintf("steps[%d]", i)
		errs = append(errs,
			checkWord(p+".name", st.Name, 64, true),
			oneOf(p+".state", st.State, StepPending, StepRunning, StepDone, StepFailed, StepUndone))
	}
	return errors.Join(errs...)
}

func validateActivity(a Activity) error {
	errs := []error{
		checkText("actor", a.Actor, 128, true),
		checkWord("action", a.Action, 64, true),
		checkWord("outcome", a.Outcome, 64, true),
	}
	if a.App != "" {
		errs = append(errs, checkSlug("app", a.App))
	}
	return errors.Join(errs...)
}

func validateCatalog(c CatalogRecord) error {
	errs := []error{
		checkSlug("id", c.ID),
		checkText("title", c.Title, 200, false),
		checkWord("digest", c.Digest, 128, false),
	}
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, &FieldError{Field: "url", Reason: fmt.Sprintf("%q must be an absolute http or https URL", c.URL)})
		}
	}
	if c.Official && c.ThirdParty {
		errs = append(errs, &FieldError{Field: "thirdParty", Reason: "an official catalog is not third-party"})
	}
	if len(c.Keys) == 0 {
		errs = append(errs, &FieldError{Field: "keys", Reason: "must hold at least one key"})
	}
	seen := map[string]bool{}
	for i, k := range c.Keys {
		p := fmt.Sprintf("keys[%d]", i)
		errs = append(errs, checkWord(p+".id", k.ID, 64, true))
		if seen[k.ID] {
			errs = append(errs, &FieldError{Field: p + ".id", Reason: fmt.Sprintf("%q is listed twice", k.ID)})
		}
		seen[k.ID] = true
		if len(k.Public) != ed25519.PublicKeySize {
			errs = append(errs, &FieldError{Field: p + ".public", Reason: fmt.Sprintf("is %d bytes, an ed25519 public key is %d", len(k.Public), ed25519.PublicKeySize)})
		}
	}
	return errors.Join(errs...)
}

// truncate cuts s to MaxText bytes on a rune boundary.
func truncate(s string) string {
	if len(s) <= MaxText {
		return s
	}
	cut := MaxText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func truncateOp(op Operation) Operation {
	op.Error = truncate(op.Error)
	if len(op.Steps) > 0 {
		steps := make([]Step, len(op.Steps))
		for i, st := range op.Steps {
			st.Detail = truncate(st.Detail)
			steps[i] = st
		}
		op.Steps = steps
	}
	return op
}
