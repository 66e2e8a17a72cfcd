package agent

import (
	"slices"
	"sort"
	"time"

	rt "github.com/hearthbox/hearth/runtime"
)

// Desired is what one app should look like on the box: its network and its
// containers in start order. It is derived from the state store; nothing in
// it is observed.
type Desired struct {
	App     string
	Running bool // the owner wants it running (else stopped)
	// Hold leaves the app's containers as they are: it is being installed,
	// or its record cannot be read. They are not orphans.
	Hold    bool
	Network rt.NetworkSpec
	// Containers are in start order (dependencies first).
	Containers []rt.ContainerSpec
	// Deps are, by container, the containers it waits for before it starts.
	Deps map[string][]Dep
}

// Dep is a container another waits for: running, or healthy too.
type Dep struct {
	Container string
	Healthy   bool
}

// StepKind names what a Step does.
type StepKind string

// Step kinds, in the order apply runs them within one app.
const (
	StepEnsureNetwork StepKind = "ensure-network"
	StepEnsure        StepKind = "ensure" // create or replace, then start
	StepStart         StepKind = "start"  // start an existing, stopped container
	StepStop          StepKind = "stop"   // stop a running container
	StepRemove        StepKind = "remove" // remove a container no app owns, or one the app no longer has
	StepRemoveNetwork StepKind = "remove-network"
)

// Step is one action of a reconcile pass.
type Step struct {
	Kind      StepKind
	App       string
	Container string
	Spec      *rt.ContainerSpec // for StepEnsure
	Network   *rt.NetworkSpec   // for StepEnsureNetwork
}

// Backoff says when a crashed container may be started again.
type Backoff interface {
	// Ready reports whether container id may be started at now.
	Ready(id string, now time.Time) bool
}

// plan compares what should run with what runs and returns the steps that
// make them agree. It is pure: the same input gives the same steps, so every
// case is a table test. observed holds the runtime's managed containers;
// networks the names of existing networks.
func plan(desired []Desired, observed []rt.ContainerInfo, networks []string, backoff Backoff, now time.Time) []Step {
	byID := map[string]rt.ContainerInfo{}
	for _, o := range observed {
		byID[o.ID] = o
	}
	wanted := map[string]bool{}
	wantedNets := map[string]bool{}
	var steps []Step
	ds := slices.Clone(desired)
	sort.Slice(ds, func(i, j int) bool { return ds[i].App < ds[j].App })
	for _, d := range ds {
		wantedNets[d.Network.Name] = true
		if d.Hold {
			for _, o := range observed {
				if o.Group == d.App {
					wanted[o.ID] = true
				}
			}
			continue
		}
		if d.Running {
			net := d.Network
			steps = append(steps, Step{Kind: StepEnsureNetwork, App: d.App, Network: &net})
		}
		for i := range d.Containers {
			spec := d.Containers[i]
			wanted[spec.ID] = true
			o, exists := byID[spec.ID]
			switch {
			case !d.Running:
				if exists && (o.State == rt.StateRunning || o.State == rt.StatePaused) {
					steps = append(steps, Step{Kind: StepStop, App: d.App, Container: spec.ID})
				}
			case !depsReady(d.Deps[spec.ID], byID):
				// its dependencies are not up yet: a later pass starts it
			case !exists || o.SpecHash != rt.SpecHash(spec):
				steps = append(steps, Step{Kind: StepEnsure, App: d.App, Container: spec.ID, Spec: &spec})
			case o.State == rt.StateRunning || o.State == rt.StatePaused:
				// converged
			case o.State == rt.StateStopped && backoff != nil && !backoff.Ready(spec.ID, now):
				// crashed recently: wait
			default:
				steps = append(steps, Step{Kind: StepStart, App: d.App, Container: spec.ID})
			}
		}
	}
	var orphans []string
	for id := range byID {
		if !wanted[id] {
			orphans = append(orphans, id)
		}
	}
	sort.Strings(orphans)
	for _, id := range orphans {
		steps = append(steps, Step{Kind: StepRemove, App: byID[id].Group, Container: id})
	}
	var staleNets []string
	for _, n := range networks {
		if !wantedNets[n] {
			staleNets = append(staleNets, n)
		}
	}
	sort.Strings(staleNets)
	for _, n := range staleNets {
		steps = append(steps, Step{Kind: StepRemoveNetwork, App: n, Network: &rt.NetworkSpec{Name: n}})
	}
	return steps
}

// depsReady says whether every dependency runs (and is healthy when asked;
// a dependency without a health check counts as healthy once it runs).
func depsReady(deps []Dep, observed map[string]rt.ContainerInfo) bool {
	for _, dep := range deps {
		o, ok := observed[dep.Container]
		if !ok || o.State != rt.StateRunning {
			return false
		}
		if dep.Healthy && o.Health != rt.HealthHealthy && o.Health != rt.HealthNone {
			return false
		}
	}
	return true
}
