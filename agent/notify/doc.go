// Package notify tells the owner what needs their eye: a failed or stale
// backup, an update rolled back, an app out of memory, a certificate that
// could not be renewed, a full disk. A Notifier keeps each notice for the
// web UI (through the small Store it declares) and mails it through the
// owner's SMTP settings, at most once per kind and app in six hours,
// retrying with backoff from the goroutine Run owns. It knows no bbolt and
// no containerd: package agent adapts its state store and calls Notify
// where it learns of trouble. Only package agent and cmd/hearthd import it.
package notify
