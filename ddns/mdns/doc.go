// Package mdns is the box's multicast DNS responder (RFC 6762) with DNS-SD
// (RFC 6763) on the LAN: it answers A and AAAA for <name>.local and
// <app>.<name>.local on the LAN interfaces, over IPv4 (224.0.0.251) and
// IPv6 (ff02::fb) on UDP port 5353; probes for its name at start and
// renames itself (<name>-2, -3...) on a conflict; announces on every change
// and says goodbye (TTL 0) when it stops; and advertises the box's web
// pages as _http._tcp and _https._tcp so that it shows up in service
// browsers. When avahi-daemon runs on the host, the agent leaves mDNS to it
// (see AvahiRunning).
//
// It knows nothing of apps beyond their names; the agent calls SetApps.
package mdns
