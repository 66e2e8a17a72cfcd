// Package state is the agent's typed store: every wish of the owner (the
// apps and their settings), every operation in flight, the activity log and
// the catalogs the box trusts live in one bbolt file. Only package agent (and
// the tools that inspect a state file) imports it, and no one outside this
// package touches a *bbolt.Tx: reads and writes go through Store and Tx, whose
// methods take and return the plain record types below.
//
// The bucket tree (schema 1; keys → values, values are JSON):
//
//	meta
//	├── schema              → decimal schema version ("1")
//	apps
//	├── <app id>            → App
//	ops
//	├── <operation id>      → Operation (ids sort by time)
//	opsByApp
//	├── <app id>/<op id>    → "" (index: an app's operations, oldest first)
//	activity
//	├── <seq, 8 bytes BE>   → Activity (the newest ActivityLimit entries)
//	catalogs
//	├── <catalog id>        → CatalogRecord
//	users
//	├── <user name>         → User
//	sessions
//	├── <hex SHA-256 of the token> → Session
//	setup
//	├── wizard              → Setup
//	reach
//	├── ddns                → DDNS (the dynamic DNS settings)
//	backups
//	├── _box                → BoxBackup (the box's backup and update policy)
//	└── <app id>            → AppBackup (an app's policy and last backup)
//	addons
//	└── <app id>            → AddonSecrets (the app's addon passwords)
//
// users, sessions, setup, reach, backups and addons came after schema 1 was released, without a
// schema step: Open adds a bucket a file lacks (see addedBuckets).
//
// Invariants the store keeps: at most one open (running) operation per app,
// and it is the app's newest; a finished operation never runs again; a record
// is written only when its bytes change; App.Generation grows on every change
// of an app and never repeats. Open migrates older files through an ordered list of
// migrations, one transaction each, and refuses files from a newer schema.
// docs/state.md describes the schema and the migration rule.
package state
