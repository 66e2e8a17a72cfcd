// Package backup drives restic, the encrypted and deduplicating backup tool,
// with argv slices and its --json output: it makes a repository at a
// destination (a folder, S3-compatible storage or SFTP), backs up an app's
// data folder with a metadata file written next to it, lists, restores,
// forgets and checks snapshots. It keeps the repository's password in a
// random key file under its state folder, made at first use.
//
// It knows no store and no runtime: the agent (the only importer) decides
// what to back up and when, stops the app, and records the outcome.
package backup
