package firstboot

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"
	"math/big"
	"strings"
)

// Alphabet is the setup code's symbols: the digits and capital letters
// without 0, O, 1, I, L and U, which are misread for one another (or spell
// words). 30 symbols: log2(30) = 4.9 bits each.
const Alphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

// CodeLen is the number of symbols of a code: 12 × 4.9 = 58.9 bits,
// shown as XXXX-XXXX-XXXX.
const CodeLen = 12

// NewCode returns a fresh setup code from crypto/rand.
func NewCode() (string, error) { return newCode(rand.Reader) }

func newCode(r io.Reader) (string, error) {
	n := big.NewInt(int64(len(Alphabet)))
	var b strings.Builder
	for i := range CodeLen {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		v, err := rand.Int(r, n)
		if err != nil {
			return "", fmt.Errorf("setup code: %w", err)
		}
		b.WriteByte(Alphabet[v.Int64()])
	}
	return b.String(), nil
}

// Normalize makes a typed code comparable: upper case, without dashes or
// white space.
func Normalize(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '\t' || r == '\n' || r == '\r':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, code)
}

// CodesMatch compares a typed code with the real one after normalising
// both, in time that does not depend on where they differ. An empty code
// matches nothing.
func CodesMatch(real, typed string) bool {
	a, b := Normalize(real), Normalize(typed)
	if a == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
