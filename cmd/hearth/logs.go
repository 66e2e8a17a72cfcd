package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hearthbox/hearth/agent/api"
)

func (c *cli) appLogs(ctx context.Context, args []string) error {
	fs := c.flags("app logs")
	follow := fs.Bool("f", false, "follow: keep printing new lines until interrupted")
	fs.BoolVar(follow, "follow", false, "the same as -f")
	tail := fs.Int("tail", 0, "only the last n lines (0 = all)")
	service := fs.String("service", "", "only this service's lines")
	ops, err := parse(fs, "app logs", args, []string{"<id>"}, nil)
	if err != nil {
		return err
	}
	if *tail < 0 {
		return &usageError{cmd: "app logs", msg: fmt.Sprintf("--tail %d: must be 0 or more", *tail)}
	}
	enc := json.NewEncoder(c.stdout)
	err = c.api().Logs(ctx, ops[0], api.LogOptions{Service: *service, Follow: *follow, Tail: *tail}, func(l api.LogLine) error {
		if c.json {
			return enc.Encode(l)
		}
		_, err := fmt.Fprintf(c.stdout, "%s | %s\n", l.Service, l.Line)
		return err
	})
	switch {
	case err == nil:
		return nil
	case *follow && ctx.Err() != nil:
		return nil // interrupted: how a followed log ends
	case errors.Is(err, api.ErrNotFound) && *service != "":
		return failf("%s: 'hearth app info %s' lists its services", err, ops[0])
	}
	return appError(err, ops[0])
}
