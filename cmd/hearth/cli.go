package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/hearthbox/hearth/agent/api"
)

// defaultSocket is hearthd's socket when HEARTH_SOCKET is not set.
const defaultSocket = "/run/hearth/hearthd.sock"

// cli is one run of the command line.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	socket         string
	loc            *time.Location // where times are shown
	json           bool           // the command's --json
	svc            api.Service    // made on first use
}

func newCLI(stdout, stderr io.Writer, getenv func(string) string) *cli {
	c := &cli{stdout: stdout, stderr: stderr, getenv: getenv, socket: getenv("HEARTH_SOCKET"), loc: time.Local}
	if c.socket == "" {
		c.socket = defaultSocket
	}
	if tz := getenv("TZ"); tz != "" {
		if loc, err := time.LoadLocation(strings.TrimPrefix(tz, ":")); err == nil {
			c.loc = loc
		}
	}
	return c
}

// api returns the client of hearthd's API.
func (c *cli) api() api.Service {
	if c.svc == nil {
		c.svc = api.NewClient(c.socket)
	}
	return c.svc
}

// command is one command of the table below.
type command struct {
	name     string // "app install"
	synopsis string // its operands and flags, for usage lines
	about    string
	run      func(c *cli, ctx context.Context, args []string) error
}

// commands lists every command, in the order help shows them.
func commands() []command {
	return slices.Concat([]command{
		{"status", "", "the box: version, platform, apps, readiness", (*cli).status},
		{"activity", "[--since seq] [--limit n]", "who did what, when, and how it ended", (*cli).activity},
		{"catalog ls", "", "the catalogs the box follows", (*cli).catalogList},
		{"catalog refresh", "[id]", "fetch and verify the catalogs again (all, or one)", (*cli).catalogRefresh},
		{"catalog add", "<id> <url> <public-key> [--title title]", "follow a third-party catalog signed by its own key", (*cli).catalogAdd},
		{"catalog remove", "<id>", "stop following a third-party catalog", (*cli).catalogRemove},
		{"store", "[--catalog id]", "the apps the catalogs offer", (*cli).store},
		{"app ls", "", "the installed apps", (*cli).appList},
		{"app info", "<id>", "an app's state, version, URLs, services and notes", (*cli).appInfo},
		{"app install", "<id> [--catalog id] [--version v] [--set key=value]... [--grant permission]... [--no-wait]", "install an app from a catalog", (*cli).appInstall},
		{"app start", "<id> [--no-wait]", "start a stopped app", (*cli).appStart},
		{"app stop", "<id> [--no-wait]", "stop an app (its data stays)", (*cli).appStop},
		{"app restart", "<id> [--no-wait]", "restart an app", (*cli).appRestart},
		{"app update", "<id> [--version v] [--no-wait]", "update an app to a catalog version (the latest by default)", (*cli).appUpdate},
		{"app rollback", "<id> [--no-wait]", "return an app to its previous version", (*cli).appRollback},
		{"app import", "<folder or compose file> [--dry-run] [--id id] [--grant permission]... [--no-wait]", "install a compose project (CasaOS, Umbrel, Runtipi, Co-op Cloud or plain)", (*cli).appImport},
		{"app move", "<id> <name>", "give an app another name (the old one redirects for 30 days)", (*cli).appMove},
		{"app uninstall", "<id> [--keep-data] [--no-wait]", "remove an app, and its data unless --keep-data", (*cli).appUninstall},
		{"app logs", "<id> [-f] [--tail n] [--service name]", "an app's output; -f follows it", (*cli).appLogs},
	}, backupCommands(), ddnsCommands(), notifyCommands(), accountCommands(), []command{
		{"catalog keygen", "--out keyfile", "maintainers: make a catalog signing key (offline)", (*cli).catalogKeygen},
		{"catalog build", "<src-dir> --id id --title title --out payload [--expires 8760h] [--timestamp t] [--offline]", "maintainers: build a catalog payload from a source tree (offline with --offline)", (*cli).catalogBuild},
		{"catalog sign", "<payload> --key keyfile [--key keyfile] --out envelope", "maintainers: sign a payload into an envelope (offline)", (*cli).catalogSign},
	})
}

// dispatch finds the command args name and runs it.
func (c *cli) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return &usageError{msg: "no command given"}
	}
	if args[0] == "help" || isHelp(args[0]) {
		return helpRequest{topic: strings.Join(args[1:], " ")}
	}
	cmds := commands()
	for _, cmd := range cmds {
		words := strings.Fields(cmd.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == cmd.name {
			return cmd.run(c, ctx, args[len(words):])
		}
	}
	// A group name alone, asking for help, or with an unknown subcommand.
	for _, cmd := range cmds {
		if group, _, ok := strings.Cut(cmd.name, " "); ok && group == args[0] {
			if len(args) > 1 && isHelp(args[1]) {
				return helpRequest{topic: group}
			}
			if len(args) == 1 {
				return &usageError{cmd: group, msg: fmt.Sprintf("%q needs a subcommand", group)}
			}
			return &usageError{cmd: group, msg: fmt.Sprintf("unknown command %q", group+" "+args[1])}
		}
	}
	return &usageError{msg: fmt.Sprintf("unknown command %q", args[0])}
}

// flags returns a flag set for the command name, with --json.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("hearth "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&c.json, "json", false, "print the API's JSON")
	return fs
}

// parse parses args, flags and operands in any order, and returns the
// operands, of which there must be at least len(need) and at most
// len(need)+len(optional).
func parse(fs *flag.FlagSet, name string, args []string, need, optional []string) ([]string, error) {
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, helpRequest{topic: name}
			}
			return nil, &usageError{cmd: name, msg: err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		operands = append(operands, args[0])
		args = args[1:]
	}
	if len(operands) < len(need) {
		return nil, &usageError{cmd: name, msg: "missing " + strings.Join(need[len(operands):], " ")}
	}
	if len(operands) > len(need)+len(optional) {
		return nil, &usageError{cmd: name, msg: fmt.Sprintf("unexpected argument %q", operands[len(need)+len(optional)])}
	}
	return operands, nil
}

// printJSON writes v as indented JSON on stdout.
func (c *cli) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	_, err = fmt.Fprintf(c.stdout, "%s\n", b)
	return err
}

// usage writes the help of topic ("" for all commands) to w.
func usage(w io.Writer, topic string) bool {
	var found bool
	if topic == "" {
		fmt.Fprintf(w, "hearth talks to hearthd, Hearth's agent, over its socket ($HEARTH_SOCKET, else %s).\n\n", defaultSocket)
		fmt.Fprintf(w, "Commands (each takes --json to print the API's JSON):\n")
	}
	for _, cmd := range commands() {
		if topic == "" || cmd.name == topic || strings.HasPrefix(cmd.name, topic+" ") {
			found = true
			fmt.Fprintf(w, "  hearth %s\n      %s\n", strings.TrimSpace(cmd.name+" "+cmd.synopsis), cmd.about)
		}
	}
	if topic == "" {
		fmt.Fprintf(w, "\nOperations (install, start, stop, restart, update, rollback, uninstall) wait for their end and\n"+
			"show progress on stderr; --no-wait prints the operation's id at once.\n"+
			"Exit status: 0 success, 1 failure (one line on stderr says what to do), 2 usage error.\n")
	}
	return found
}

// isHelp tells whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}
