// Package updater keeps a name's A and AAAA records at the box's public
// addresses through a libdns provider (ddns/provider/...): it changes them
// only when the address changed, with a short TTL, retries with capped
// backoff and jitter, and checks each change by asking the zone's
// authoritative servers directly. It knows nothing of apps or of where its
// settings are kept; the agent runs it.
package updater
