// Package ddns discovers the box's public addresses, updates DNS records and
// answers mDNS on the LAN. It knows nothing of apps.
package ddns
