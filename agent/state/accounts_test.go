package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func testUser(name string) User {
	return User{Name: name, Role: "owner", PasswordHash: "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA", Created: t0}
}

func testSession(hash, user string) Session {
	return Session{Hash: hash, ID: "id-" + hash[:8], User: user, Created: t0, LastSeen: t0, Expires: t0.AddDate(0, 0, 30)}
}

func hashOf(c byte) string { return strings.Repeat(string(c), 64) }

func TestUsers(t *testing.T) {
	s := openTest(t, Options{})
	anna, ben := testUser("anna"), testUser("ben")
	ben.Role = "member"
	for _, u := range []User{ben, anna} {
		if err := s.Update(func(tx *Tx) error { return tx.PutUser(u) }); err != nil {
			t.Fatalf("PutUser(%s): %v", u.Name, err)
		}
	}
	got, err := s.Users()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]User{anna, ben}, got); diff != "" {
		t.Errorf("Users (-want +got):\n%s", diff)
	}
	if err := s.Update(func(tx *Tx) error { return tx.DeleteUser("ben") }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.User("ben"); !errors.Is(err, ErrNotFound) {
		t.Errorf("User(ben) after delete: got %v, want ErrNotFound", err)
	}
	if err := s.Update(func(tx *Tx) error { return tx.DeleteUser("ben") }); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteUser(ben) twice: got %v, want ErrNotFound", err)
	}
}

func TestInvalidRecordsNameTheField(t *testing.T) {
	cases := []struct {
		name  string
		put   func(tx *Tx) error
		field string
	}{
		{"user name", func(tx *Tx) error { u := testUser("Anna"); return tx.PutUser(u) }, "name:"},
		{"user role", func(tx *Tx) error { u := testUser("anna"); u.Role = "admin"; return tx.PutUser(u) }, "role:"},
		{"user without hash", func(tx *Tx) error { u := testUser("anna"); u.PasswordHash = ""; return tx.PutUser(u) }, "passwordHash:"},
		{"session hash", func(tx *Tx) error { return tx.PutSession(testSession(hashOf('A'), "anna")) }, "hash:"},
		{"session user", func(tx *Tx) error { return tx.PutSession(testSession(hashOf('a'), "-x")) }, "user:"},
		{"setup token", func(tx *Tx) error { return tx.PutSetup(Setup{Tokens: []string{"nothex"}}) }, "tokens[0]:"},
		{"setup app", func(tx *Tx) error { return tx.PutSetup(Setup{Apps: []string{"Hello"}}) }, "apps[0]:"},
	}
	s := openTest(t, Options{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Update(c.put)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.field) {
				t.Errorf("got %v, want ErrInvalid naming %q", err, c.field)
			}
		})
	}
}

func TestSessions(t *testing.T) {
	s := openTest(t, Options{})
	a1, a2, b1 := testSession(hashOf('a'), "anna"), testSession(hashOf('b'), "anna"), testSession(hashOf('c'), "ben")
	a1.UserAgent = strings.Repeat("é", 400) // 800 bytes: cut at a rune boundary
	err := s.Update(func(tx *Tx) error {
		for _, x := range []Session{a1, a2, b1} {
			if err := tx.PutSession(x); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got Session
	if err := s.View(func(tx *Tx) (err error) { got, err = tx.Session(a1.Hash); return err }); err != nil {
		t.Fatal(err)
	}
	if len(got.UserAgent) != maxUserAgent {
		t.Errorf("user agent: got %d bytes, want %d", len(got.UserAgent), maxUserAgent)
	}
	cases := []struct {
		name, user, keep string
		want             int
		left             []string
	}{
		{"anna's but one", "anna", a2.Hash, 1, []string{a2.Hash, b1.Hash}},
		{"everyone's", "", "", 2, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var n int
			if err := s.Update(func(tx *Tx) (err error) { n, err = tx.DeleteSessions(c.user, c.keep); return err }); err != nil {
				t.Fatal(err)
			}
			if n != c.want {
				t.Errorf("deleted: got %d, want %d", n, c.want)
			}
			var left []string
			_ = s.View(func(tx *Tx) error {
				all, err := tx.Sessions()
				for _, x := range all {
					left = append(left, x.Hash)
				}
				return err
			})
			if diff := cmp.Diff(c.left, left); diff != "" {
				t.Errorf("left (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetupRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openAt(t, path, Options{})
	zero, err := s.Setup()
	if err != nil || !cmp.Equal(zero, Setup{}) {
		t.Fatalf("Setup of a new file: got %+v, %v, want the zero Setup", zero, err)
	}
	want := Setup{Code: "ABCD-EFGH-JKMN", Tokens: []string{hashOf('1')}, Owner: "anna", OwnerHash: "$argon2id$x",
		BoxName: "home", Timezone: "Europe/Berlin", Access: "lan", Credentials: map[string]string{"token": "s3cret"},
		AppsChosen: true, Apps: []string{"hello"}}
	if err := s.Update(func(tx *Tx) error { return tx.PutSetup(want) }); err != nil {
		t.Fatal(err)
	}
	got, err := s.Setup()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Setup (-want +got):\n%s", diff)
	}
	if err := s.Update(func(tx *Tx) error { return tx.DeleteSetup() }); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Setup(); !cmp.Equal(got, Setup{}) {
		t.Errorf("Setup after delete: got %+v, want zero", got)
	}
}

// TestOldFileGetsTheNewBuckets opens the released schema-1 fixture, which
// has no users, sessions or setup bucket: Open adds them without a schema
// step, and they work.
func TestOldFileGetsTheNewBuckets(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "schema-1.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s := openAt(t, path, Options{})
	if got := s.SchemaVersion(); got != 1 {
		t.Errorf("schema: got %d, want 1", got)
	}
	if err := s.Update(func(tx *Tx) error { return tx.PutUser(testUser("anna")) }); err != nil {
		t.Fatalf("PutUser in an old file: %v", err)
	}
	if _, err := os.Stat(path + ".schema1.bak"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("backup: got %v, want none (no migration ran)", err)
	}
}
