package main

import (
	"context"
	"fmt"
	"io"

	"github.com/hearthbox/hearth/agent/api"
)

// Operation states (api.Operation.State).
const (
	opRunning    = "running"
	opDone       = "done"
	opFailed     = "failed"
	opRolledBack = "rolledback"
)

// follow waits for op to end, showing its progress on stderr, and says how
// it ended; with noWait it prints the operation's id (or JSON) at once.
func (c *cli) follow(ctx context.Context, op api.Operation, noWait bool) error {
	if noWait {
		if c.json {
			return c.printJSON(op)
		}
		fmt.Fprintln(c.stdout, op.ID)
		return nil
	}
	fmt.Fprintf(c.stderr, "%s %s: operation %s\n", op.Kind, op.App, op.ID)
	events, err := c.api().WatchOperation(ctx, op.ID)
	if err == nil {
		p := progress{w: c.stderr, pct: -1}
		for e := range events {
			p.show(e)
		}
	}
	if ctx.Err() != nil {
		return failf("stopped waiting; %s of %q goes on: 'hearth app info %s' shows it", op.Kind, op.App, op.App)
	}
	// The stream may have ended early (hearthd restarted): ask how the
	// operation stands.
	end, err := c.api().Operation(ctx, op.ID)
	if err != nil {
		return fmt.Errorf("operation %s: %w", op.ID, err)
	}
	if c.json {
		if err := c.printJSON(end); err != nil {
			return err
		}
	}
	switch end.State {
	case opDone:
		if !c.json {
			c.done(ctx, end)
		}
		return nil
	case opRolledBack:
		return failf("%s of %q failed and was rolled back: %s: the app is as it was before; see 'hearth app info %s' and 'hearth activity'", end.Kind, end.App, dash(end.Error), end.App)
	case opFailed:
		return failf("%s of %q failed: %s: see 'hearth app info %s' and 'hearth activity'", end.Kind, end.App, dash(end.Error), end.App)
	case opRunning:
		return failf("lost track of operation %s, still running: 'hearth app info %s' shows it", end.ID, end.App)
	}
	return failf("operation %s ended as %q: see 'hearth app info %s'", end.ID, end.State, end.App)
}

// done says that an operation worked, and where its app answers.
func (c *cli) done(ctx context.Context, op api.Operation) {
	if op.Kind == "uninstall" || op.Kind == "stop" {
		fmt.Fprintf(c.stdout, "%s %s: done\n", op.Kind, op.App)
		return
	}
	a, err := c.api().App(ctx, op.App)
	if err != nil {
		fmt.Fprintf(c.stdout, "%s %s: done\n", op.Kind, op.App)
		return
	}
	fmt.Fprintf(c.stdout, "%s %s: done: %s %s is %s\n", op.Kind, op.App, a.ID, a.Version, dash(a.State))
	for _, u := range a.URLs {
		fmt.Fprintf(c.stdout, "  %s\n", u)
	}
}

// progress shows an operation's events as lines: each step, its messages,
// and the download every 10 percent.
type progress struct {
	w    io.Writer
	step string
	msg  string
	pct  int // the last percentage shown, -1 for none
}

func (p *progress) show(e api.Progress) {
	if e.Done {
		return
	}
	if e.Step != p.step {
		p.step, p.msg, p.pct = e.Step, "", -1
		if e.Message == "" {
			fmt.Fprintf(p.w, "  %s\n", dash(e.Step))
		}
	}
	if e.Message != "" && e.Message != p.msg {
		p.msg = e.Message
		fmt.Fprintf(p.w, "  %s: %s\n", dash(p.step), oneLine(e.Message))
	}
	if e.BytesTotal > 0 {
		pct := int(min(e.BytesDone, e.BytesTotal) * 100 / e.BytesTotal)
		if pct/10*10 > p.pct {
			p.pct = pct / 10 * 10
			fmt.Fprintf(p.w, "  %s: %d%% of %s\n", dash(p.step), pct, size(e.BytesTotal))
		}
	}
}
