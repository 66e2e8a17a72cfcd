package network

import (
	"encoding/json"
	"fmt"
)

// cniVersion is the CNI spec version of the generated configurations; the
// plugins of Debian 12 (1.1.1) speak it.
const cniVersion = "1.0.0"

type confList struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Plugins    []any  `json:"plugins"`
}

type bridgeConf struct {
	Type        string   `json:"type"`
	Bridge      string   `json:"bridge"`
	IsGateway   bool     `json:"isGateway"`
	IPMasq      bool     `json:"ipMasq"`
	HairpinMode bool     `json:"hairpinMode"`
	IPAM        ipamConf `json:"ipam"`
}

type ipamConf struct {
	Type    string        `json:"type"`
	Ranges  [][]ipamRange `json:"ranges"`
	Routes  []ipamRoute   `json:"routes"`
	DataDir string        `json:"dataDir"`
}

type ipamRange struct {
	Subnet  string `json:"subnet"`
	Gateway string `json:"gateway"`
}

type ipamRoute struct {
	Dst string `json:"dst"`
}

type pluginType struct {
	Type string `json:"type"`
}

// cniName is the CNI network name of a network. It carries the prefix so that
// two Managers never share a CNI chain name (a hash of network name and
// container ID) in the nat table; host-local keeps the network's leases in
// dataDir/<cniName>.
func cniName(prefix, network string) string { return prefix + "-" + network }

// loopbackName is the CNI network name of the loopback configuration.
func loopbackName(prefix string) string { return prefix + "-loopback" }

// bridgeConfList generates the CNI configuration list of a network: a bridge
// that is the subnet's gateway, masquerades the containers' traffic that
// leaves the subnet (the firewall decides whether it may) and lets a
// container reach itself through the bridge; host-local addresses with the
// leases under dataDir; one default route through the gateway.
func bridgeConfList(prefix string, n Network, dataDir string) ([]byte, error) {
	l := confList{
		CNIVersion: cniVersion,
		Name:       cniName(prefix, n.Name),
		Plugins: []any{bridgeConf{
			Type:        "bridge",
			Bridge:      n.Bridge,
			IsGateway:   true,
			IPMasq:      true,
			HairpinMode: true,
			IPAM: ipamConf{
				Type:    "host-local",
				Ranges:  [][]ipamRange{{{Subnet: n.Subnet.String(), Gateway: n.Gateway.String()}}},
				Routes:  []ipamRoute{{Dst: "0.0.0.0/0"}},
				DataDir: dataDir,
			},
		}},
	}
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode cni config: %w", err)
	}
	return b, nil
}

// loopbackConfList generates the configuration that brings up lo.
func loopbackConfList(prefix string) ([]byte, error) {
	b, err := json.MarshalIndent(confList{
		CNIVersion: cniVersion,
		Name:       loopbackName(prefix),
		Plugins:    []any{pluginType{Type: "loopback"}},
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode cni config: %w", err)
	}
	return b, nil
}
