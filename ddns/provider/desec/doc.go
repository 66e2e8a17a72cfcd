// Package desec is a libdns provider for deSEC (https://desec.io), written
// for Hearth because the upstream provider module cannot be fetched here. It
// talks to deSEC's REST API (v1) with an API token and is used by the DNS
// updater in ddns and by certmagic's DNS-01 solver in proxy.
//
// deSEC stores records as RRsets (name, type, one TTL, a list of values) and
// refuses TTLs below the domain's minimum, 3600 s for ordinary accounts:
// every TTL this package writes is raised to at least MinTTL. Writes go
// through deSEC's bulk endpoints, which apply all RRsets of a request or
// none.
//
// Anyone may import this package; it knows nothing of Hearth's apps.
package desec
