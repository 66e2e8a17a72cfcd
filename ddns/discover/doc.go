// Package discover finds the box's public IPv4 and IPv6 addresses by asking
// several independent sources (STUN servers, HTTPS echo services, the
// router's UPnP external address) and taking the majority, and it detects
// carrier-grade NAT, where forwarding ports cannot work. It knows nothing of
// apps; the agent and the DNS updater (ddns/updater) import it.
package discover
