// Package txt writes and reads the text of DNS TXT records in the quoted
// form the providers' APIs use. Only the providers under ddns/provider
// import it.
package txt

import (
	"fmt"
	"strings"
)

// MaxString is the longest character-string in a TXT record (RFC 1035
// §3.3.14); longer texts are split into several strings.
const MaxString = 255

// Quote returns text in zone-file presentation form: one or more quoted
// character-strings of at most 255 bytes each, with '"' and '\' escaped and
// bytes outside printable ASCII written as \DDD.
func Quote(text string) string {
	var b strings.Builder
	for first := true; first || text != ""; first = false {
		chunk := text
		if len(chunk) > MaxString {
			chunk = chunk[:MaxString]
		}
		text = text[len(chunk):]
		if !first {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		for i := 0; i < len(chunk); i++ {
			switch c := chunk[i]; {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20 || c >= 0x7f:
				fmt.Fprintf(&b, "\\%03d", c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
	}
	return b.String()
}

// Unquote reverses quoteTXT: it joins the character-strings of a TXT
// record in presentation form (quoted or not) into one text.
func Unquote(s string) (string, error) {
	var b strings.Builder
	i := 0
	for i < len(s) {
		switch s[i] {
		case ' ', '\t':
			i++
			continue
		case '"':
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '"' {
					i++
					closed = true
					break
				}
				if c == '\\' {
					n, err := unescape(s[i:], &b)
					if err != nil {
						return "", err
					}
					i += n
					continue
				}
				b.WriteByte(c)
				i++
			}
			if !closed {
				return "", fmt.Errorf("TXT data %q has an unterminated quote", s)
			}
		default:
			for i < len(s) && s[i] != ' ' && s[i] != '\t' {
				if s[i] == '\\' {
					n, err := unescape(s[i:], &b)
					if err != nil {
						return "", err
					}
					i += n
					continue
				}
				b.WriteByte(s[i])
				i++
			}
		}
	}
	return b.String(), nil
}

// unescape decodes the escape at the start of s (which begins with '\') into
// b and returns how many bytes of s it used.
func unescape(s string, b *strings.Builder) (int, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("TXT data ends in a lone backslash")
	}
	if s[1] >= '0' && s[1] <= '9' {
		if len(s) < 4 {
			return 0, fmt.Errorf("TXT data has a short \\DDD escape %q", s)
		}
		v := 0
		for _, c := range []byte(s[1:4]) {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("TXT data has a bad \\DDD escape %q", s[:4])
			}
			v = v*10 + int(c-'0')
		}
		if v > 255 {
			return 0, fmt.Errorf("TXT data has an out-of-range escape %q", s[:4])
		}
		b.WriteByte(byte(v))
		return 4, nil
	}
	b.WriteByte(s[1])
	return 2, nil
}
