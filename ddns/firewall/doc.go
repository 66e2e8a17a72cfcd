// Package firewall keeps the box's host firewall: one nftables table
// ("inet hearth" by default) whose input chain drops what it does not
// accept: replies, loopback, essential ICMP and ICMPv6, the DHCP client,
// mDNS from the LAN, 80 and 443 from anywhere, the app ports the owner
// granted (from anywhere or from the LAN only), and Hearth's admin ports
// from the LAN only unless the owner opens them. The table is replaced
// whole in one netlink batch, so the rules change atomically, and it stays
// in place when hearthd stops. It touches no other table: the runtime's
// iptables chains (iptables-nft here) keep judging the app networks'
// traffic. It knows nothing of apps; the agent hands it Rules.
//
// See docs/firewall.md.
package firewall
