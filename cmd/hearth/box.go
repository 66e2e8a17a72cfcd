package main

import (
	"context"
	"fmt"
	"math"
	"strconv"
)

func (c *cli) status(ctx context.Context, args []string) error {
	fs := c.flags("status")
	if _, err := parse(fs, "status", args, nil, nil); err != nil {
		return err
	}
	st, err := c.api().Status(ctx)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(st)
	}
	ready := "ready"
	if !st.Ready {
		ready = "starting (not ready yet)"
	}
	fmt.Fprintf(c.stdout, "hearthd %s on %s: %s\n", st.Version, st.Platform, ready)
	tw := newTable(c.stdout)
	fmt.Fprintf(tw, "started:\t%s\n", c.when(st.Started))
	fmt.Fprintf(tw, "apps:\t%d (%d running, %d unhealthy)\n", st.Apps, st.Running, st.Unhealthy)
	fmt.Fprintf(tw, "data:\t%s\n", st.DataRoot)
	return tw.Flush()
}

func (c *cli) activity(ctx context.Context, args []string) error {
	fs := c.flags("activity")
	since := fs.Uint64("since", 0, "only entries after this sequence number")
	limit := fs.Int("limit", 0, "at most this many entries (0 = hearthd's default)")
	if _, err := parse(fs, "activity", args, nil, nil); err != nil {
		return err
	}
	if *limit < 0 || *limit > math.MaxInt32 {
		return &usageError{cmd: "activity", msg: "--limit " + strconv.Itoa(*limit) + ": must be 0 or more"}
	}
	acts, err := c.api().Activity(ctx, *since, *limit)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(nonNil(acts))
	}
	if len(acts) == 0 {
		fmt.Fprintln(c.stdout, "no activity yet")
		return nil
	}
	tw := newTable(c.stdout)
	fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tAPP\tACTION\tOUTCOME\tDETAIL")
	for _, a := range acts {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Seq, c.when(a.Time), a.Actor, dash(a.App), a.Action, a.Outcome, a.Detail)
	}
	return tw.Flush()
}

// nonNil makes an empty list print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
