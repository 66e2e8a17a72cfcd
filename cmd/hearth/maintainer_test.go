package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearthbox/hearth/agent/catalog"
)

// TestMaintainerCommands runs keygen, build and sign offline on the
// official catalog's source tree, and checks that the envelope verifies
// with the key keygen printed and lists the tree's apps.
func TestMaintainerCommands(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "catalog.key")
	payload := filepath.Join(dir, "payload.json")
	envelope := filepath.Join(dir, "envelope.json")
	src := filepath.Join("..", "..", "agent", "catalog", "official", "src")
	const sock = "/nonexistent/hearthd.sock" // they never use it

	r := hearth(sock, "catalog", "keygen", "--out", key, "--json")
	if r.code != 0 {
		t.Fatalf("keygen: exit %d, stderr %q", r.code, r.stderr)
	}
	var k keyResult
	if err := json.Unmarshal([]byte(r.stdout), &k); err != nil {
		t.Fatalf("keygen output %q: %v", r.stdout, err)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: got %v, %v, want mode 0600", fi, err)
	}
	if r := hearth(sock, "catalog", "keygen", "--out", key); r.code != 1 || !strings.Contains(r.stderr, "pick a new file name") {
		t.Errorf("keygen over an existing key: got exit %d, stderr %q, want 1 and a refusal", r.code, r.stderr)
	}

	ts := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	r = hearth(sock, "catalog", "build", src, "--id", "test", "--title", "Test catalog", "--out", payload,
		"--timestamp", ts.Format(time.RFC3339), "--expires", "720h", "--offline")
	if r.code != 0 {
		t.Fatalf("build: exit %d, stderr %q", r.code, r.stderr)
	}
	r = hearth(sock, "catalog", "sign", payload, "--key", key, "--out", envelope)
	if r.code != 0 {
		t.Fatalf("sign: exit %d, stderr %q", r.code, r.stderr)
	}
	if want := "signed by " + k.KeyID; !strings.Contains(r.stdout, want) {
		t.Errorf("sign: got %q, want it to say %q", r.stdout, want)
	}

	env, err := os.ReadFile(envelope)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := catalog.ParsePublicKey(k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Verify(env, catalog.Trust{Keys: []catalog.Key{{Public: pub}}}, nil, ts.Add(time.Hour))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if cat.ID != "test" || len(cat.Apps) != len(entries) || !cat.Expires.Equal(ts.Add(720*time.Hour)) {
		t.Errorf("got catalog %q with %d apps, expiring %v, want %q with %d apps, expiring %v",
			cat.ID, len(cat.Apps), cat.Expires, "test", len(entries), ts.Add(720*time.Hour))
	}

	if r := hearth(sock, "catalog", "sign", payload, "--key", filepath.Join(dir, "none.key"), "--out", envelope); r.code != 1 {
		t.Errorf("sign with a missing key: got exit %d, stderr %q, want 1", r.code, r.stderr)
	}
}
