package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/hearthbox/hearth/agent/api"
)

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// usageError is a command line hearth cannot run.
type usageError struct {
	cmd string // the command whose usage applies; "" = all
	msg string
}

func (e *usageError) Error() string { return e.msg }

// helpRequest asks for the help of a topic.
type helpRequest struct{ topic string }

func (helpRequest) Error() string { return "help requested" }

// failure is a finished sentence: what went wrong and what to do.
type failure struct{ line string }

func (f *failure) Error() string { return f.line }

func failf(format string, args ...any) error { return &failure{line: fmt.Sprintf(format, args...)} }

// exit prints what err needs and returns the exit status.
func (c *cli) exit(err error) int {
	var help helpRequest
	var use *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &help):
		if !usage(c.stdout, help.topic) {
			fmt.Fprintf(c.stderr, "hearth: no help for %q: see 'hearth help'\n", help.topic)
			return exitUsage
		}
		return exitOK
	case errors.As(err, new(*refused)):
		fmt.Fprintf(c.stderr, "hearth: %s\n", oneLine(err.Error()))
		return exitUsage
	case errors.As(err, &use):
		advice := "see 'hearth help'"
		if use.cmd != "" {
			advice = fmt.Sprintf("see 'hearth help %s'", use.cmd)
		}
		for _, cmd := range commands() {
			if cmd.name == use.cmd {
				advice = "usage: hearth " + strings.TrimSpace(cmd.name+" "+cmd.synopsis)
			}
		}
		fmt.Fprintf(c.stderr, "hearth: %s: %s\n", oneLine(use.msg), advice)
		return exitUsage
	}
	fmt.Fprintf(c.stderr, "hearth: %s\n", oneLine(c.explain(err)))
	return exitFail
}

// explain says what went wrong and what to do, for errors a command did
// not explain itself.
func (c *cli) explain(err error) string {
	var f *failure
	if errors.As(err, &f) {
		return f.line
	}
	var apiErr *api.Error
	switch {
	case errors.Is(err, api.ErrUnreachable) && errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("permission denied on %s: run hearth as root", c.socket)
	case errors.Is(err, api.ErrUnreachable):
		return fmt.Sprintf("cannot reach hearthd at %s: is it running? (set HEARTH_SOCKET to use another socket)", c.socket)
	case errors.Is(err, api.ErrForbidden):
		return "hearthd answers root only: run hearth as root"
	case errors.Is(err, api.ErrUnavailable):
		return fmt.Sprintf("%s: hearthd is not ready yet, try again in a moment", err)
	case errors.Is(err, api.ErrBusy):
		return fmt.Sprintf("%s: wait for it to end ('hearth app ls' shows it), then try again", err)
	case errors.Is(err, api.ErrInvalid):
		return fmt.Sprintf("%s: see 'hearth help'", err)
	case errors.As(err, &apiErr) && apiErr.Code == api.CodeInternal:
		return fmt.Sprintf("hearthd failed: %s: see its log (journalctl -u hearthd)", err)
	}
	return err.Error()
}

// appError explains an error of a command on the installed app id.
func appError(err error, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, api.ErrNotFound):
		return failf("app %q is not installed: see 'hearth app ls'", id)
	case errors.Is(err, api.ErrBusy):
		return failf("%s: wait for it to end ('hearth app info %s' shows it), then try again", err, id)
	}
	return err
}

// oneLine joins a multi-line message (errors.Join) into one line.
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}
