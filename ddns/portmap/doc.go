// Package portmap asks the home router to forward ports to the box: UPnP IGD
// (SSDP discovery, the device description, SOAP actions on WANIPConnection or
// WANPPPConnection), NAT-PMP (RFC 6886) and PCP (RFC 6887, where the router
// answers version 2). A Mapper keeps the mappings the owner asked for (80 and
// 443 by default), renews them at half their lease and removes them when it
// is turned off. It knows nothing of apps; cmd/hearthd and the address
// discovery (through ExternalAddr) use it.
//
// See docs/port-mapping.md.
package portmap
