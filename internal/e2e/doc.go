// Package e2e holds Hearth's end-to-end tests: real hearthd and hearth
// binaries, a private containerd, the sample catalog served from a registry
// on loopback, driven through the CLI as an owner would, and killed dead at
// every step of an operation to prove that the next start recovers. It has
// no code of its own.
package e2e
