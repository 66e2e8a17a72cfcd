package main

import (
	"context"
	"crypto/ed25519"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hearthbox/hearth/agent/catalog"
)

// These commands are for catalog maintainers. They work offline and never
// touch the socket.

func (c *cli) catalogKeygen(ctx context.Context, args []string) error {
	fs := c.flags("catalog keygen")
	out := fs.String("out", "", "the private key file to write (mode 0600; never overwritten)")
	if _, err := parse(fs, "catalog keygen", args, nil, nil); err != nil {
		return err
	}
	if *out == "" {
		return &usageError{cmd: "catalog keygen", msg: "missing --out"}
	}
	pub, priv, err := catalog.GenerateKey()
	if err != nil {
		return err
	}
	if err := catalog.WriteKeyFile(*out, priv); err != nil {
		return failf("%s: pick a new file name for --out", err)
	}
	res := keyResult{KeyFile: *out, KeyID: catalog.KeyID(pub), PublicKey: catalog.EncodePublicKey(pub)}
	if c.json {
		return c.printJSON(res)
	}
	fmt.Fprintf(c.stdout, "private key: %s (keep it offline)\nkey id:      %s\npublic key:  %s\n", res.KeyFile, res.KeyID, res.PublicKey)
	return nil
}

// keyResult is what catalog keygen prints with --json.
type keyResult struct {
	KeyFile   string `json:"keyFile"`
	KeyID     string `json:"keyId"`
	PublicKey string `json:"publicKey"`
}

func (c *cli) catalogBuild(ctx context.Context, args []string) error {
	fs := c.flags("catalog build")
	id := fs.String("id", "", "the catalog's id")
	title := fs.String("title", "", "the catalog's title")
	out := fs.String("out", "", "the payload file to write")
	expires := fs.Duration("expires", 365*24*time.Hour, "how long boxes accept the catalog")
	stamp := fs.String("timestamp", "", "the catalog's timestamp, RFC 3339 (default: now)")
	offline := fs.Bool("offline", false, "do not ask registries for image digests (the agent pins them at install)")
	ops, err := parse(fs, "catalog build", args, []string{"<src-dir>"}, nil)
	if err != nil {
		return err
	}
	if err := required(fs, "catalog build", "id", "title", "out"); err != nil {
		return err
	}
	if *expires <= 0 {
		return &usageError{cmd: "catalog build", msg: fmt.Sprintf("--expires %s: must be positive", *expires)}
	}
	ts := time.Now().UTC()
	if *stamp != "" {
		if ts, err = time.Parse(time.RFC3339, *stamp); err != nil {
			return &usageError{cmd: "catalog build", msg: fmt.Sprintf("--timestamp %q: not RFC 3339 (2025-03-01T12:00:00Z)", *stamp)}
		}
	}
	var resolve catalog.Resolver
	if !*offline {
		resolve = resolveDigest
	}
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	meta := catalog.BuildMeta{ID: *id, Title: *title, Timestamp: ts, Expires: ts.Add(*expires)}
	payload, err := catalog.Build(ctx, ops[0], meta, resolve, log)
	if err != nil {
		return err
	}
	if err := writeFile(*out, payload, 0o644); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(map[string]string{"payload": *out})
	}
	fmt.Fprintf(c.stdout, "wrote %s: sign it with 'hearth catalog sign %s --key <keyfile> --out <envelope>'\n", *out, *out)
	return nil
}

func (c *cli) catalogSign(ctx context.Context, args []string) error {
	fs := c.flags("catalog sign")
	var keyFiles stringList
	fs.Var(&keyFiles, "key", "a private key file (repeat to sign with old and new keys during a rotation)")
	out := fs.String("out", "", "the envelope file to write")
	ops, err := parse(fs, "catalog sign", args, []string{"<payload>"}, nil)
	if err != nil {
		return err
	}
	if err := required(fs, "catalog sign", "key", "out"); err != nil {
		return err
	}
	payload, err := os.ReadFile(ops[0])
	if err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	var keys []ed25519.PrivateKey
	for _, f := range keyFiles {
		k, err := catalog.ReadKeyFile(f)
		if err != nil {
			return err
		}
		keys = append(keys, k)
	}
	env, err := catalog.Sign(payload, keys...)
	if err != nil {
		return err
	}
	if err := writeFile(*out, env, 0o644); err != nil {
		return err
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, catalog.KeyID(k.Public().(ed25519.PublicKey)))
	}
	if c.json {
		return c.printJSON(map[string]any{"envelope": *out, "keyIds": ids})
	}
	fmt.Fprintf(c.stdout, "wrote %s, signed by %s\n", *out, strings.Join(ids, ", "))
	return nil
}

// stringList collects a repeated flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// required checks that the named flags were given.
func required(fs *flag.FlagSet, cmd string, names ...string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var missing []string
	for _, n := range names {
		if !set[n] {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) > 0 {
		return &usageError{cmd: cmd, msg: "missing " + strings.Join(missing, " ")}
	}
	return nil
}

// writeFile replaces path with data atomically (a temporary file in the
// same folder, renamed over it).
func writeFile(path string, data []byte, mode os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
