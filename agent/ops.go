package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/state"
)

// Operation kinds.
const (
	OpInstall   = "install"
	OpStart     = "start"
	OpStop      = "stop"
	OpRestart   = "restart"
	OpUpdate    = "update"
	OpRollback  = "rollback"
	OpUninstall = "uninstall"
)

// Operation and step states.
const (
	opRunning    = "running"
	opDone       = "done"
	opFailed     = "failed"
	opRolledBack = "rolledback"

	stepPending = "pending"
	stepRunning = "running"
	stepDone    = "done"
	stepFailed  = "failed"
)

// stepDef is one step of an operation kind. run must be idempotent: after a
// crash the step runs again from the start.
type stepDef struct {
	name string
	run  func(ctx context.Context, r *opRun) error
}

// kindDef describes an operation kind: its steps, and what to do when a step
// fails (undo what the earlier steps did); undo returns the final state.
type kindDef struct {
	steps []stepDef
	undo  func(ctx context.Context, r *opRun, cause error) (string, error)
}

// opRun is an operation being executed.
type opRun struct {
	a  *Agent
	op state.Operation
}

func (a *Agent) kinds() map[string]kindDef {
	return map[string]kindDef{
		OpInstall:   a.installKind(),
		OpStart:     a.wantedKind("running", false),
		OpStop:      a.wantedKind("stopped", false),
		OpRestart:   a.wantedKind("running", true),
		OpUpdate:    a.updateKind(),
		OpRollback:  a.rollbackKind(),
		OpUninstall: a.uninstallKind(),
		OpBackup:    a.backupKind(),
		OpRestore:   a.restoreKind(),
	}
}

// begin persists a new operation (refused with api.ErrBusy while the app
// has one open) and starts running it.
func (a *Agent) begin(ctx context.Context, app, kind string, params any) (api.Operation, error) {
	def, ok := a.kinds()[kind]
	if !ok {
		return api.Operation{}, fmt.Errorf("operation %q: %w", kind, api.ErrInvalid)
	}
	p, err := json.Marshal(params)
	if err != nil {
		return api.Operation{}, fmt.Errorf("operation %s: %w", kind, err)
	}
	now := a.cfg.Now()
	op := state.Operation{
		ID: a.store.NewOpID(), App: app, Kind: kind, Params: p, State: opRunning,
		Started: now, Actor: api.ActorFrom(ctx),
	}
	for _, s := range def.steps {
		op.Steps = append(op.Steps, state.Step{Name: s.name, State: stepPending})
	}
	if err := a.store.BeginOp(op); err != nil {
		if errors.Is(err, state.ErrBusy) {
			return api.Operation{}, fmt.Errorf("app %s: %w", app, api.ErrBusy)
		}
		return api.Operation{}, fmt.Errorf("begin %s of %s: %w", kind, app, err)
	}
	a.activity(op.Actor, app, kind, "started", "")
	out := toAPIOp(op)
	a.launch(op)
	return out, nil
}

// launch runs op on a goroutine the agent waits for. The goroutine owns its
// copy of the operation.
func (a *Agent) launch(op state.Operation) {
	op.Steps = slices.Clone(op.Steps)
	a.mu.Lock()
	if a.running[op.ID] {
		a.mu.Unlock()
		return
	}
	a.running[op.ID] = true
	a.mu.Unlock()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() {
			a.mu.Lock()
			delete(a.running, op.ID)
			a.mu.Unlock()
		}()
		a.execute(a.ctx, op)
	}()
}

// resumeOperations starts again every operation that a crash interrupted,
// from its first step not done.
func (a *Agent) resumeOperations(ctx context.Context) error {
	ops, err := a.store.OpenOps()
	if err != nil {
		return fmt.Errorf("open operations: %w", err)
	}
	for _, op := range ops {
		a.log.Info("resuming operation", "op", op.ID, "app", op.App, "kind", op.Kind)
		a.launch(op)
	}
	return nil
}

// execute runs the steps of op that are not done, persisting each step's
// state before and after, and undoes the operation if a step fails.
func (a *Agent) execute(ctx context.Context, op state.Operation) {
	def, ok := a.kinds()[op.Kind]
	if !ok {
		a.finish(op, opFailed, fmt.Errorf("unknown operation kind %q", op.Kind))
		return
	}
	r := &opRun{a: a, op: op}
	for i, s := range def.steps {
		if i < len(r.op.Steps) && r.op.Steps[i].State == stepDone {
			continue
		}
		if ctx.Err() != nil {
			return // shutting down: the operation stays open and resumes next start
		}
		r.setStep(i, stepRunning, "")
		a.fault(op.Kind + "/" + s.name + "/before")
		err := s.run(ctx, r)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.setStep(i, stepFailed, err.Error())
			final := opFailed
			if def.undo != nil {
				st, uerr := def.undo(ctx, r, err)
				if ctx.Err() != nil {
					return
				}
				final = st
				if uerr != nil {
					err = errors.Join(err, fmt.Errorf("undo: %w", uerr))
					final = opFailed
				}
			}
			a.finish(r.op, final, err)
			return
		}
		r.setStep(i, stepDone, "")
		a.fault(op.Kind + "/" + s.name + "/after")
	}
	a.finish(r.op, opDone, nil)
}

func (a *Agent) fault(point string) {
	if a.cfg.Fault != nil {
		a.cfg.Fault(point)
	}
}

func (r *opRun) setStep(i int, st, detail string) {
	now := r.a.cfg.Now()
	s := &r.op.Steps[i]
	s.State = st
	if detail != "" {
		s.Detail = detail
	}
	switch st {
	case stepRunning:
		s.Started = now
	case stepDone, stepFailed:
		s.Ended = now
	}
	if err := r.a.store.UpdateOp(r.op); err != nil {
		r.a.log.Error("persist operation step", "op", r.op.ID, "step", s.Name, "err", err)
	}
	r.a.progress.send(api.Progress{Operation: r.op.ID, Step: s.Name, Message: st})
}

// report sends a progress message for the current operation.
func (r *opRun) report(p api.Progress) {
	p.Operation = r.op.ID
	r.a.progress.send(p)
}

// finish closes an operation, records it in the activity log, and tells
// its watchers.
func (a *Agent) finish(op state.Operation, final string, err error) {
	op.State = final
	op.Ended = a.cfg.Now()
	detail := ""
	if err != nil {
		op.Error = err.Error()
		detail = op.Error
	}
	if uerr := a.store.UpdateOp(op); uerr != nil {
		a.log.Error("persist operation end", "op", op.ID, "err", uerr)
	}
	a.activity(op.Actor, op.App, op.Kind, final, detail)
	a.log.Info("operation ended", "op", op.ID, "app", op.App, "kind", op.Kind, "state", final, "err", err)
	a.progress.send(api.Progress{Operation: op.ID, Done: true, State: final, Error: op.Error})
	a.poke()
}

func (r *opRun) params(v any) error {
	if len(r.op.Params) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.op.Params, v); err != nil {
		return fmt.Errorf("operation parameters: %w", err)
	}
	return nil
}

func toAPIOp(op state.Operation) api.Operation {
	out := api.Operation{ID: op.ID, App: op.App, Kind: op.Kind, State: op.State, Error: op.Error, Started: op.Started, Ended: op.Ended}
	for _, s := range op.Steps {
		out.Steps = append(out.Steps, api.Step{Name: s.Name, State: s.State, Detail: s.Detail})
	}
	return out
}
