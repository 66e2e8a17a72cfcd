// Package cloudflare is a libdns provider for Cloudflare DNS, written for
// Hearth because the upstream provider module cannot be fetched here. It
// talks to Cloudflare's API v4 with a scoped API token (Bearer) and is used
// by the DNS updater in ddns and by certmagic's DNS-01 solver in proxy.
//
// It finds a zone's id by name (GET /zones?name=...), then lists, creates,
// replaces and deletes records under /zones/{id}/dns_records. It handles the
// A, AAAA, CNAME, TXT, MX and NS types; Cloudflare's TTL of 1 ("automatic")
// is reported as 0 and written for a TTL of 0.
//
// Anyone may import this package; it knows nothing of Hearth's apps.
package cloudflare
