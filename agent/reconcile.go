package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/hearthbox/hearth/agent/state"
	rt "github.com/hearthbox/hearth/runtime"
)

// reconcile runs one pass: read what should run from the store and what
// runs from the runtime, plan, and apply. A failed step is logged and
// retried on the next pass; the others go on.
func (a *Agent) reconcile(ctx context.Context) error {
	apps, err := a.store.Apps()
	if err != nil {
		return fmt.Errorf("read apps: %w", err)
	}
	sortApps(apps)
	var desired []Desired
	var errs []error
	for _, app := range apps {
		if app.Wanted == state.WantPending || len(app.Images) == 0 {
			// Being installed: nothing to run yet, but what it may have
			// made is kept (it is not an orphan).
			desired = append(desired, Desired{App: app.ID, Hold: true, Network: rt.NetworkSpec{Name: app.ID}})
			continue
		}
		d, err := a.desired(app)
		if err != nil {
			errs = append(errs, err)
			desired = append(desired, Desired{App: app.ID, Hold: true, Network: rt.NetworkSpec{Name: app.ID}})
			continue
		}
		desired = append(desired, d)
	}
	observed, err := a.rt.List(ctx, "")
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list containers: %w", err))...)
	}
	now := a.cfg.Now()
	for _, s := range plan(desired, observed, a.rt.Networks(), a.backoff, now) {
		if err := a.apply(ctx, s); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", s.Kind, s.Container+s.App, err))
		}
	}
	if err := a.applyRoutes(ctx, apps); err != nil {
		errs = append(errs, err)
	}
	if err := a.syncAddons(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (a *Agent) apply(ctx context.Context, s Step) error {
	switch s.Kind {
	case StepEnsureNetwork:
		_, err := a.rt.EnsureNetwork(ctx, *s.Network)
		return err
	case StepEnsure:
		a.backoff.reset(s.Container)
		if _, _, err := a.rt.Ensure(ctx, *s.Spec); err != nil {
			return err
		}
		a.backoff.started(s.Container, a.cfg.Now())
		_, err := a.rt.Start(ctx, s.Container)
		return err
	case StepStart:
		a.backoff.started(s.Container, a.cfg.Now())
		_, err := a.rt.Start(ctx, s.Container)
		return err
	case StepStop:
		return a.rt.Stop(ctx, s.Container, 0)
	case StepRemove:
		a.backoff.reset(s.Container)
		return a.rt.Remove(ctx, s.Container)
	case StepRemoveNetwork:
		return a.rt.RemoveNetwork(ctx, s.Network.Name)
	}
	return fmt.Errorf("unknown step %q", s.Kind)
}
