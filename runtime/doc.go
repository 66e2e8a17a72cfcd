// Package rt drives containerd and CNI for Hearth: it pulls images, creates
// per-group bridge networks, runs locked-down containers, and observes them
// (logs, stats, health, exit and OOM events). It knows nothing of apps or of
// the agent's state store: callers describe containers with ContainerSpec and
// the runtime keeps only what it needs to find them again after a restart
// (labels on containerd objects and a few files under its state directory).
//
// The directory is runtime/ but the package is named rt so that it never
// shadows the standard library's runtime: import it as
//
//	rt "github.com/hearthbox/hearth/runtime"
package rt
