// Package catalog reads, verifies and builds Hearth's app catalogs.
//
// A catalog is an index of apps and their versions (each version carrying its
// manifest inline), serialised as JSON and signed with ed25519. What is served
// and stored is an envelope that holds the exact payload bytes (base64) and
// one or more signatures over them, so verification needs no canonical form.
//
// Verify refuses a catalog with a bad signature, one older than the catalog
// the box holds (rollback), one past its expiry (freeze) and one whose
// content is invalid, each with its own sentinel error. Manager keeps the
// last good catalog of every source in memory and refreshes it over HTTP;
// persisting the envelope it returns is the caller's job. The official
// catalog and its public keys are embedded in the binary (Embedded). Build,
// Sign, GenerateKey and the key-file helpers are the library behind the
// maintainer's "hearth catalog build|sign" commands.
//
// The package is part of the agent: only the agent and cmd import it. It
// depends on agent/manifest for the manifest format and on nothing else of
// Hearth. The format and the trust rules are described in docs/catalog.md.
package catalog
