package manifest

import (
	"fmt"
	"slices"
	"strings"
)

// Platforms returns the platforms every service supports, sorted.
func (m *Manifest) Platforms() []string {
	var out []string
	for _, p := range []string{PlatformAMD64, PlatformARM64} {
		all := len(m.Services) > 0
		for _, s := range m.Services {
			if _, ok := s.Image.Platforms[p]; !ok {
				all = false
			}
		}
		if all {
			out = append(out, p)
		}
	}
	return out
}

// HTTPService returns the service the proxy routes to and its port; ok is
// false for an app without a web entry.
func (m *Manifest) HTTPService() (name string, port int, ok bool) {
	for _, n := range m.serviceNames() {
		if p := m.Services[n].HTTPPort; p != 0 {
			return n, p, true
		}
	}
	return "", 0, false
}

// StartOrder returns the service names so that every service comes after
// those it depends on: level by level (services with no dependencies first,
// then those whose dependencies are all in earlier levels), in name order
// within a level. A cycle is a *FieldError naming it; so is a dependency on
// a service that does not exist.
func (m *Manifest) StartOrder() ([]string, error) {
	names := m.serviceNames()
	for _, n := range names {
		for i, d := range m.Services[n].DependsOn {
			if _, ok := m.Services[d.Service]; !ok {
				return nil, &FieldError{Path: index(key("services", n)+".dependsOn", i) + ".service",
					Reason: fmt.Sprintf("%q is not a service of this app", d.Service)}
			}
		}
	}
	if cycle := m.findCycle(); cycle != nil {
		return nil, &FieldError{Path: key("services", cycle[0]) + ".dependsOn",
			Reason: "dependency cycle: " + strings.Join(cycle, " -> ")}
	}
	done := map[string]bool{}
	order := make([]string, 0, len(names))
	for len(order) < len(names) {
		var level []string
		for _, n := range names {
			if done[n] {
				continue
			}
			ready := true
			for _, d := range m.Services[n].DependsOn {
				ready = ready && done[d.Service]
			}
			if ready {
				level = append(level, n)
			}
		}
		for _, n := range level {
			done[n] = true
		}
		order = append(order, level...)
	}
	return order, nil
}

// findCycle returns a dependency cycle as its path, first service repeated
// at the end ("a", "b", "a"), or nil. It starts from the services in name
// order, so the cycle found is always the same one. Dependencies on unknown
// services are ignored (Validate reports them).
func (m *Manifest) findCycle() []string {
	const (
		unseen = iota
		active
		finished
	)
	state := map[string]int{}
	var stack []string
	var visit func(n string) []string
	visit = func(n string) []string {
		state[n] = active
		stack = append(stack, n)
		deps := make([]string, 0, len(m.Services[n].DependsOn))
		for _, d := range m.Services[n].DependsOn {
			deps = append(deps, d.Service)
		}
		slices.Sort(deps)
		for _, d := range deps {
			if _, ok := m.Services[d]; !ok {
				continue
			}
			switch state[d] {
			case active:
				i := slices.Index(stack, d)
				return append(slices.Clone(stack[i:]), d)
			case unseen:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = finished
		return nil
	}
	for _, n := range m.serviceNames() {
		if state[n] == unseen {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

// MemoryLimits returns each service's memory limit in bytes: its own
// memoryLimit, or an equal share of what the app's limit leaves.
func (m *Manifest) MemoryLimits() map[string]int64 {
	out := make(map[string]int64, len(m.Services))
	left := int64(m.Resources.MemoryLimit)
	shares := int64(0)
	for n, s := range m.Services {
		if s.MemoryLimit != 0 {
			out[n] = int64(s.MemoryLimit)
			left -= int64(s.MemoryLimit)
		} else {
			shares++
		}
	}
	for n, s := range m.Services {
		if s.MemoryLimit == 0 {
			out[n] = max(left/shares, 0) &^ (4<<10 - 1) // whole 4 KiB pages
		}
	}
	return out
}
