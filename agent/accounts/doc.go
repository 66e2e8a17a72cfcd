// Package accounts is the box's users, passwords, sessions and two-factor
// sign-in: argon2id password hashes in PHC form, a password strength check,
// a lockout with exponential backoff per user name, session tokens stored
// only as SHA-256, and TOTP (RFC 6238). Service keeps them in the agent's
// state store; only package agent imports it. docs/accounts.md records the
// decisions (parameters, lifetimes, lockout).
package accounts
