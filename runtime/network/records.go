package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Spec describes a network to Ensure.
type Spec struct {
	// Name is [a-z0-9][a-z0-9-]*, at most 32 characters.
	Name string `json:"name"`
	// Egress lets the containers reach addresses outside the box's container
	// networks (the LAN, the internet) and resolve names other than theirs.
	Egress bool `json:"egress"`
	// HostPorts are the TCP ports of the gateway (host services: an app's
	// addons) that the network's containers may reach; at most
	// MaxHostPorts, none zero. Everything else on the host stays closed.
	HostPorts []uint16 `json:"hostPorts,omitempty"`
}

// Network is a bridge network as the Manager made it.
type Network struct {
	// Name is the caller's name: [a-z0-9][a-z0-9-]*, at most 32 characters.
	Name string `json:"name"`
	// Bridge is the Linux bridge (Config.Prefix followed by hex digits).
	Bridge string `json:"bridge"`
	// Subnet is carved from Config.Pool; no two networks share one.
	Subnet netip.Prefix `json:"subnet"`
	// Gateway is the bridge's address and the containers' DNS server.
	Gateway netip.Addr `json:"gateway"`
	// Egress lets the network's containers reach addresses outside the
	// box's container networks, and its DNS responder forward other names.
	Egress bool `json:"egress"`
	// HostPorts are the gateway's TCP ports open to the containers, sorted.
	HostPorts []uint16 `json:"hostPorts,omitempty"`
}

// Attachment is a container's place on a network.
type Attachment struct {
	ContainerID string `json:"containerID"`
	Network     string `json:"network"`
	// NetNS is the bind-mounted network namespace the container must join.
	NetNS string `json:"netns"`
	// IP is the container's address; zero in a record whose CNI ADD never
	// finished.
	IP netip.Addr `json:"ip,omitzero"`
	// Names resolve to IP through the network's DNS responder.
	Names []string `json:"names,omitempty"`
}

// networkRecord is the file networks/<name>.json: the network and, through
// its existence, the lease of its subnet.
type networkRecord struct {
	Network
	// Created orders the networks' firewall rules, so that a new network's
	// rules are appended after the others.
	Created time.Time `json:"created"`
}

// Folders under Config.StateDir.
const (
	networksDir    = "networks"
	attachmentsDir = "attachments"
	netnsDir       = "netns"
	ipamDir        = "ipam"
	cniCacheDir    = "cni"
)

// writeJSON replaces path atomically (temporary file, fsync, rename, fsync of
// the folder), so that a crash leaves the old record or the new one.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(append(b, '\n'))
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write record: %w", werr)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// removeFile deletes path; a missing file is not an error.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// readRecords decodes every <key>.json in dir into a map keyed by the file's
// base name. Left-over temporary files of an interrupted write are deleted.
func readRecords[T any](dir string) (map[string]T, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	out := map[string]T{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			_ = os.Remove(filepath.Join(dir, name))
			continue
		}
		if e.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read record: %w", err)
		}
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("record %s: %w", filepath.Join(dir, name), err)
		}
		out[strings.TrimSuffix(name, ".json")] = v
	}
	return out, nil
}
