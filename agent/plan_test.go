package agent

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	rt "github.com/hearthbox/hearth/runtime"
)

type fixedBackoff map[string]bool

func (f fixedBackoff) Ready(id string, _ time.Time) bool { return !f[id] }

func TestPlan(t *testing.T) {
	web := rt.ContainerSpec{ID: "blog-web", Group: "blog", Image: "x@sha256:1", Network: "blog"}
	db := rt.ContainerSpec{ID: "blog-db", Group: "blog", Image: "y@sha256:2", Network: "blog"}
	changed := web
	changed.Env = []string{"A=1"}
	blog := Desired{App: "blog", Running: true, Network: rt.NetworkSpec{Name: "blog"}, Containers: []rt.ContainerSpec{db, web}}
	stopped := blog
	stopped.Running = false
	running := func(s rt.ContainerSpec) rt.ContainerInfo {
		return rt.ContainerInfo{ID: s.ID, Group: s.Group, SpecHash: rt.SpecHash(s), State: rt.StateRunning}
	}
	exited := func(s rt.ContainerSpec) rt.ContainerInfo {
		i := running(s)
		i.State = rt.StateStopped
		return i
	}
	startingHealth := func(i rt.ContainerInfo) rt.ContainerInfo { i.Health = rt.HealthStarting; return i }
	healthy := func(i rt.ContainerInfo) rt.ContainerInfo { i.Health = rt.HealthHealthy; return i }
	netStep := Step{Kind: StepEnsureNetwork, App: "blog", Network: &rt.NetworkSpec{Name: "blog"}}
	cases := []struct {
		name     string
		desired  []Desired
		observed []rt.ContainerInfo
		networks []string
		backoff  Backoff
		want     []Step
	}{
		{"nothing", nil, nil, nil, nil, nil},
		{"fresh install creates in start order", []Desired{blog}, nil, nil, nil, []Step{
			netStep,
			{Kind: StepEnsure, App: "blog", Container: "blog-db", Spec: &db},
			{Kind: StepEnsure, App: "blog", Container: "blog-web", Spec: &web},
		}},
		{"converged does nothing but keep the network", []Desired{blog}, []rt.ContainerInfo{running(db), running(web)}, []string{"blog"}, nil, []Step{netStep}},
		{"changed spec is replaced", []Desired{{App: "blog", Running: true, Network: rt.NetworkSpec{Name: "blog"}, Containers: []rt.ContainerSpec{db, changed}}},
			[]rt.ContainerInfo{running(db), running(web)}, []string{"blog"}, nil, []Step{
				netStep,
				{Kind: StepEnsure, App: "blog", Container: "blog-web", Spec: &changed},
			}},
		{"crashed container restarts", []Desired{blog}, []rt.ContainerInfo{running(db), exited(web)}, []string{"blog"}, fixedBackoff{}, []Step{
			netStep,
			{Kind: StepStart, App: "blog", Container: "blog-web"},
		}},
		{"crashed container waits out its backoff", []Desired{blog}, []rt.ContainerInfo{running(db), exited(web)}, []string{"blog"}, fixedBackoff{"blog-web": true}, []Step{netStep}},
		{"stopped app stops running containers only", []Desired{stopped}, []rt.ContainerInfo{running(db), exited(web)}, []string{"blog"}, nil, []Step{
			{Kind: StepStop, App: "blog", Container: "blog-db"},
		}},
		{"orphans and stale networks go", nil, []rt.ContainerInfo{running(web)}, []string{"blog", "old"}, nil, []Step{
			{Kind: StepRemove, App: "blog", Container: "blog-web"},
			{Kind: StepRemoveNetwork, App: "blog", Network: &rt.NetworkSpec{Name: "blog"}},
			{Kind: StepRemoveNetwork, App: "old", Network: &rt.NetworkSpec{Name: "old"}},
		}},
		{"a service waits for its dependency to be healthy", []Desired{{App: "blog", Running: true, Network: rt.NetworkSpec{Name: "blog"},
			Containers: []rt.ContainerSpec{db, web}, Deps: map[string][]Dep{"blog-web": {{Container: "blog-db", Healthy: true}}}}},
			[]rt.ContainerInfo{startingHealth(running(db))}, []string{"blog"}, nil, []Step{netStep}},
		{"a service starts once its dependency is healthy", []Desired{{App: "blog", Running: true, Network: rt.NetworkSpec{Name: "blog"},
			Containers: []rt.ContainerSpec{db, web}, Deps: map[string][]Dep{"blog-web": {{Container: "blog-db", Healthy: true}}}}},
			[]rt.ContainerInfo{healthy(running(db))}, []string{"blog"}, nil, []Step{netStep, {Kind: StepEnsure, App: "blog", Container: "blog-web", Spec: &web}}},
		{"a held app is left alone", []Desired{{App: "blog", Hold: true, Network: rt.NetworkSpec{Name: "blog"}}},
			[]rt.ContainerInfo{running(db), exited(web)}, []string{"blog"}, fixedBackoff{}, nil},
		{"a service dropped by an update goes", []Desired{{App: "blog", Running: true, Network: rt.NetworkSpec{Name: "blog"}, Containers: []rt.ContainerSpec{web}}},
			[]rt.ContainerInfo{running(db), running(web)}, []string{"blog"}, nil, []Step{
				netStep,
				{Kind: StepRemove, App: "blog", Container: "blog-db"},
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := plan(c.desired, c.observed, c.networks, c.backoff, time.Unix(0, 0))
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}
