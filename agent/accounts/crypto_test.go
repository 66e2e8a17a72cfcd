package accounts

import (
	"encoding/base32"
	"errors"
	"strings"
	"testing"
	"time"
)

// rfcSecret is RFC 6238's SHA-1 test key, base32.
var rfcSecret = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))

func TestTOTPVectors(t *testing.T) {
	// RFC 6238 Appendix B, SHA-1 rows: eight digits; the six-digit code is
	// their last six.
	cases := []struct {
		unix  int64
		eight string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	}
	for _, c := range cases {
		t.Run(c.eight, func(t *testing.T) {
			step := TOTPStep(time.Unix(c.unix, 0))
			if got := hotp([]byte("12345678901234567890"), uint64(step), 8); got != c.eight {
				t.Errorf("hotp, 8 digits: got %s, want %s", got, c.eight)
			}
			got, err := TOTPCode(rfcSecret, step)
			if err != nil {
				t.Fatal(err)
			}
			if want := c.eight[2:]; got != want {
				t.Errorf("TOTPCode: got %s, want %s", got, want)
			}
		})
	}
}

func TestCheckTOTP(t *testing.T) {
	now := time.Unix(1111111111, 0)
	cur := TOTPStep(now)
	code := func(step int64) string { c, _ := TOTPCode(rfcSecret, step); return c }
	cases := []struct {
		name     string
		code     string
		lastStep int64
		wantStep int64
		wantOK   bool
	}{
		{"current step", code(cur), 0, cur, true},
		{"one step late", code(cur - 1), 0, cur - 1, true},
		{"one step early", code(cur + 1), 0, cur + 1, true},
		{"two steps late", code(cur - 2), 0, 0, false},
		{"replayed", code(cur), cur, 0, false},
		{"with a space", code(cur)[:3] + " " + code(cur)[3:], 0, cur, true},
		{"too short", "12345", 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			step, ok := CheckTOTP(rfcSecret, c.code, now, c.lastStep)
			if ok != c.wantOK || step != c.wantStep {
				t.Errorf("got step %d ok %v, want step %d ok %v", step, ok, c.wantStep, c.wantOK)
			}
		})
	}
}

func TestTOTPURI(t *testing.T) {
	got := TOTPURI("ABC", "anna", "home")
	want := "otpauth://totp/Hearth%20%28home%29:anna?algorithm=SHA1&digits=6&issuer=Hearth+%28home%29&period=30&secret=ABC"
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestPasswordHash(t *testing.T) {
	p := Params{Memory: 64, Time: 1, Threads: 1}
	phc, err := HashPassword("correct horse battery", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("got %s, want a PHC string with the parameters", phc)
	}
	other, _ := HashPassword("correct horse battery", p)
	if other == phc {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	cases := []struct {
		name, phc, password string
		want                bool
		wantErr             bool
	}{
		{"right", phc, "correct horse battery", true, false},
		{"wrong", phc, "correct horse battery!", false, false},
		{"argon2i", strings.Replace(phc, "argon2id", "argon2i", 1), "x", false, true},
		{"huge memory", strings.Replace(phc, "m=64", "m=4194304", 1), "x", false, true},
		{"garbage", "$argon2id$v=19$m=64$", "x", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := VerifyPassword(c.phc, c.password)
			if got != c.want || (err != nil) != c.wantErr {
				t.Errorf("got %v, %v, want %v (error: %v)", got, err, c.want, c.wantErr)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	cases := []struct {
		name, password, rule string
	}{
		{"good", "violet-otter-climbs", ""},
		{"short", "abc123!", "length"},
		{"nine runes", "ééééééééa", "length"},
		{"user name", "Annabelle2024!", "name"},
		{"box name", "my-hearth-box-2024", "name"},
		{"common", "Password123", "common"},
		{"common digits", "1234567890", "common"},
		{"one character", "zzzzzzzzzzzz", "common"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckPassword(c.password, "annabelle", "hearth")
			var weak *WeakPasswordError
			switch {
			case c.rule == "" && err != nil:
				t.Errorf("got %v, want nil", err)
			case c.rule != "" && !errors.As(err, &weak):
				t.Errorf("got %v, want a WeakPasswordError of rule %s", err, c.rule)
			case c.rule != "" && weak.Rule != c.rule:
				t.Errorf("got rule %s (%v), want %s", weak.Rule, err, c.rule)
			case c.rule != "" && !errors.Is(err, ErrWeakPassword):
				t.Errorf("got %v, want it to match ErrWeakPassword", err)
			}
		})
	}
}

func TestLockoutGrows(t *testing.T) {
	l := newLockout(3, time.Second, 5*time.Second)
	now := time.Unix(0, 0)
	var got []time.Duration
	for range 8 {
		got = append(got, l.fail("anna", now))
	}
	want := []time.Duration{0, 0, 0, 1 * time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("failure %d: got lock %s, want %s", i+1, got[i], want[i])
		}
	}
	if w := l.wait("anna", now.Add(time.Second)); w != 4*time.Second {
		t.Errorf("wait: got %s, want 4s", w)
	}
	if w := l.wait("ben", now); w != 0 {
		t.Errorf("another name: got wait %s, want 0", w)
	}
	l.succeed("anna")
	if w := l.wait("anna", now); w != 0 {
		t.Errorf("after success: got wait %s, want 0", w)
	}
}
