// Package network gives each group of containers its own bridge network on a
// Hearth box: a subnet carved from a private pool, a Linux bridge made by the
// standard CNI plugins (bridge, host-local, loopback), iptables rules that keep
// networks apart from each other and from the host (with a per-network switch
// for egress to the LAN and the internet), and a DNS responder on each
// network's gateway that answers the containers' names.
//
// A "container" here is a network namespace that the Manager creates and
// bind-mounts under its state directory; the caller (package rt, the
// containerd driver) runs the container's processes in it. The package knows
// nothing of apps or containerd and must not import either: only package rt
// imports it.
//
// Everything the Manager needs to find its objects again after a crash lives
// in files under Config.StateDir:
//
//	networks/<name>.json      one record per network; the file is its subnet lease
//	attachments/<id>.json     one record per attached container, written before CNI ADD
//	netns/<id>                bind-mounted network namespaces
//	ipam/<cni name>/          host-local's leases
//	cni/results/              libcni's result cache
//
// See firewall.go for the iptables rules and dns.go for the DNS responder.
package network
