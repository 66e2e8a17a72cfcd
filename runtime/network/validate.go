package network

import (
	"fmt"
	"regexp"
	"slices"
)

// MaxHostPorts is how many host ports one network may open (Spec.HostPorts).
const MaxHostPorts = 16

var (
	networkNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	containerIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)
	// hostNamePattern accepts DNS names as compose writes them: labels of
	// letters, digits, '-' and '_' joined by dots.
	hostNamePattern = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*$`)
)

func validateNetworkName(name string) error {
	if !networkNamePattern.MatchString(name) {
		return fmt.Errorf("network name %q: must be 1-32 characters of a-z, 0-9 and '-', not starting with '-'", name)
	}
	return nil
}

func validateContainerID(id string) error {
	if !containerIDPattern.MatchString(id) {
		return fmt.Errorf("container id %q: must be 1-63 characters of a-z, 0-9, '_', '.' and '-', starting with a letter or digit", id)
	}
	return nil
}

func validateHostNames(names []string) error {
	for i, n := range names {
		if len(n) > 253 || !hostNamePattern.MatchString(n) {
			return fmt.Errorf("names[%d] %q: must be a DNS name (labels of letters, digits, '-' and '_', at most 63 characters each)", i, n)
		}
	}
	return nil
}

// normalizeHostPorts checks ports and returns them sorted, without
// duplicates; nil for none.
func normalizeHostPorts(ports []uint16) ([]uint16, error) {
	if len(ports) == 0 {
		return nil, nil
	}
	out := slices.Clone(ports)
	slices.Sort(out)
	out = slices.Compact(out)
	if out[0] == 0 {
		return nil, fmt.Errorf("hostPorts: port 0: must be 1-65535")
	}
	if len(out) > MaxHostPorts {
		return nil, fmt.Errorf("hostPorts: %d ports: at most %d", len(out), MaxHostPorts)
	}
	return out, nil
}
