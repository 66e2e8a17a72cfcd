// Package duckdns is a libdns provider for DuckDNS (https://www.duckdns.org),
// written for Hearth because the upstream provider module cannot be fetched
// here. It is used by the DNS updater in ddns and by certmagic's DNS-01
// solver in proxy.
//
// DuckDNS gives each account names <sub>.duckdns.org, each with at most one
// A record, one AAAA record and one TXT value, all changed through a single
// update URL authorised by the account token. This package maps libdns
// records onto that: A and AAAA at <sub>.duckdns.org, and TXT at
// _acme-challenge.<sub>.duckdns.org (which DuckDNS serves from the name's
// one TXT value); it refuses every other name and type with ErrUnsupported.
// DuckDNS has no read API, so the current records are read from DuckDNS's
// name servers over DNS.
//
// Anyone may import this package; it knows nothing of Hearth's apps.
package duckdns
