package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/manifest"
)

func (c *cli) appList(ctx context.Context, args []string) error {
	fs := c.flags("app ls")
	if _, err := parse(fs, "app ls", args, nil, nil); err != nil {
		return err
	}
	apps, err := c.api().Apps(ctx)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(nonNil(apps))
	}
	if len(apps) == 0 {
		fmt.Fprintln(c.stdout, "no apps installed: see 'hearth store'")
		return nil
	}
	tw := newTable(c.stdout)
	fmt.Fprintln(tw, "APP\tVERSION\tSTATE\tCATALOG\tURL")
	for _, a := range apps {
		url := "-"
		if len(a.URLs) > 0 {
			url = a.URLs[0]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.ID, a.Version, appState(a), a.Catalog, url)
	}
	return tw.Flush()
}

// appState is an app's state, with the operation that runs on it.
func appState(a api.App) string {
	s := dash(a.State)
	if a.Operation != nil {
		s += fmt.Sprintf(" (%s %s)", a.Operation.Kind, a.Operation.State)
	}
	return s
}

func (c *cli) appInfo(ctx context.Context, args []string) error {
	fs := c.flags("app info")
	ops, err := parse(fs, "app info", args, []string{"<id>"}, nil)
	if err != nil {
		return err
	}
	a, err := c.api().App(ctx, ops[0])
	if err != nil {
		return appError(err, ops[0])
	}
	if c.json {
		return c.printJSON(a)
	}
	c.showApp(a)
	return nil
}

// showApp writes what the owner wants to know of an app.
func (c *cli) showApp(a api.App) {
	fmt.Fprintf(c.stdout, "%s: %s %s from catalog %s\n", a.ID, dash(a.Title), a.Version, a.Catalog)
	tw := newTable(c.stdout)
	fmt.Fprintf(tw, "state:\t%s (wanted: %s)\n", dash(a.State), dash(a.Wanted))
	if a.PreviousVersion != "" {
		fmt.Fprintf(tw, "previous:\t%s ('hearth app rollback %s' returns to it)\n", a.PreviousVersion, a.ID)
	}
	fmt.Fprintf(tw, "installed:\t%s\n", c.when(a.Installed))
	if !a.Updated.IsZero() {
		fmt.Fprintf(tw, "updated:\t%s\n", c.when(a.Updated))
	}
	urls := "-"
	if len(a.URLs) > 0 {
		urls = strings.Join(a.URLs, " ")
	}
	fmt.Fprintf(tw, "urls:\t%s\n", urls)
	if op := a.Operation; op != nil {
		var steps []string
		for _, s := range op.Steps {
			steps = append(steps, s.Name+" "+s.State)
		}
		fmt.Fprintf(tw, "operation:\t%s %s %s since %s: %s\n", op.Kind, op.ID, op.State, c.when(op.Started), dash(strings.Join(steps, ", ")))
	}
	tw.Flush()

	fmt.Fprintln(c.stdout, "services:")
	tw = newTable(c.stdout)
	fmt.Fprintln(tw, "  NAME\tSTATE\tHEALTH\tIP\tIMAGE")
	for _, s := range a.Services {
		state := dash(s.State)
		if s.ExitCode != 0 {
			state += fmt.Sprintf(" (exit %d)", s.ExitCode)
		}
		if s.OOMKilled {
			state += " (out of memory)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", s.Name, state, dash(s.Health), dash(s.IP), s.Image)
	}
	tw.Flush()

	if len(a.Settings) > 0 {
		fmt.Fprintln(c.stdout, "settings:")
		tw = newTable(c.stdout)
		for _, s := range a.Settings {
			v := s.Value
			if s.Secret {
				v = "(secret, not shown)"
			}
			fmt.Fprintf(tw, "  %s:\t%s\n", dash(s.Label), v)
		}
		tw.Flush()
	}
	if a.Notes != "" {
		fmt.Fprintln(c.stdout, "notes:")
		for _, l := range strings.Split(strings.TrimRight(a.Notes, "\n"), "\n") {
			fmt.Fprintln(c.stdout, strings.TrimRight("  "+l, " "))
		}
	}
}

// settings collects --set key=value flags.
type settings map[string]string

func (s settings) String() string { return "" }

func (s settings) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not key=value", v)
	}
	if _, dup := s[k]; dup {
		return fmt.Errorf("setting %q given twice", k)
	}
	s[k] = val
	return nil
}

// grants collects --grant flags: host permissions, repeated or separated
// by commas.
type grants []string

func (g *grants) String() string { return strings.Join(*g, ",") }

func (g *grants) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(manifest.HostPermissions(), manifest.Permission(p)) {
			return fmt.Errorf("%q is not a host permission (%s)", p, hostPermissions())
		}
		if !slices.Contains(*g, p) {
			*g = append(*g, p)
		}
	}
	return nil
}

func hostPermissions() string {
	var s []string
	for _, p := range manifest.HostPermissions() {
		s = append(s, string(p))
	}
	return strings.Join(s, ", ")
}

// grantUsage is the help of --grant.
const grantUsage = "grant a host permission the app asks for (host-files, container-engine, host-network, host-pid, privileged); repeat or separate with commas"

func (c *cli) appInstall(ctx context.Context, args []string) error {
	fs := c.flags("app install")
	catalog := fs.String("catalog", "", "the catalog to install from (default: the first that has the app, official first)")
	version := fs.String("version", "", "the version to install (default: the latest)")
	set := settings{}
	fs.Var(set, "set", "an install setting, key=value (repeat for more)")
	var granted grants
	fs.Var(&granted, "grant", grantUsage)
	noWait := fs.Bool("no-wait", false, "print the operation's id and return at once")
	ops, err := parse(fs, "app install", args, []string{"<id>"}, nil)
	if err != nil {
		return err
	}
	if isPath(ops[0]) {
		if *catalog != "" || *version != "" {
			return &usageError{cmd: "app install", msg: "--catalog and --version are for catalog apps, not compose projects"}
		}
		plan, err := importProject(ctx, ops[0], "")
		if err != nil {
			return err
		}
		return c.installPlan(ctx, ops[0], plan, set, granted, *noWait)
	}
	req := api.InstallRequest{App: ops[0], Catalog: *catalog, Version: *version, Grants: granted}
	if len(set) > 0 {
		req.Settings = set
	}
	op, err := c.api().Install(ctx, req)
	if err != nil {
		return installError(err, ops[0])
	}
	return c.follow(ctx, op, *noWait)
}

// installError explains an error of an install.
func installError(err error, id string) error {
	switch {
	case errors.Is(err, api.ErrNotFound):
		return failf("%s: see 'hearth store' for the apps and versions on offer", err)
	case errors.Is(err, api.ErrRefused) && strings.Contains(err.Error(), "--grant"):
		return failf("%s", err) // says which permissions to grant
	case errors.Is(err, api.ErrRefused):
		return failf("%s: free some room or pick another app ('hearth store')", err)
	}
	return appError(err, id)
}

// appOp runs an operation that takes only the app's id.
func (c *cli) appOp(ctx context.Context, name string, args []string, do func(api.Service, context.Context, string) (api.Operation, error)) error {
	fs := c.flags(name)
	noWait := fs.Bool("no-wait", false, "print the operation's id and return at once")
	ops, err := parse(fs, name, args, []string{"<id>"}, nil)
	if err != nil {
		return err
	}
	op, err := do(c.api(), ctx, ops[0])
	if err != nil {
		return appError(err, ops[0])
	}
	return c.follow(ctx, op, *noWait)
}

func (c *cli) appStart(ctx context.Context, args []string) error {
	return c.appOp(ctx, "app start", args, api.Service.Start)
}

func (c *cli) appStop(ctx context.Context, args []string) error {
	return c.appOp(ctx, "app stop", args, api.Service.Stop)
}

func (c *cli) appRestart(ctx context.Context, args []string) error {
	return c.appOp(ctx, "app restart", args, api.Service.Restart)
}

func (c *cli) appRollback(ctx context.Context, args []string) error {
	return c.appOp(ctx, "app rollback", args, api.Service.Rollback)
}

func (c *cli) appUpdate(ctx context.Context, args []string) error {
	fs := c.flags("app update")
	version := fs.String("version", "", "the version to update to (default: the latest)")
	from := fs.String("from", "", "a compose project to update an imported app to")
	noWait := fs.Bool("no-wait", false, "print the operation's id and return at once")
	ops, err := parse(fs, "app update", args, []string{"<id>"}, nil)
	if err != nil {
		return err
	}
	if *from != "" {
		if *version != "" {
			return &usageError{cmd: "app update", msg: "--version and --from do not go together"}
		}
		plan, err := importProject(ctx, *from, ops[0])
		if err != nil {
			return err
		}
		if plan.Refused != nil {
			return &refused{failure{line: fmt.Sprintf("%s cannot be installed: %s", *from, plan.Refused)}}
		}
		raw, err := json.Marshal(plan.Manifest)
		if err != nil {
			return fmt.Errorf("encode the manifest: %w", err)
		}
		op, err := c.api().UpdateManifest(ctx, ops[0], raw)
		if err != nil {
			return appError(err, ops[0])
		}
		return c.follow(ctx, op, *noWait)
	}
	op, err := c.api().Update(ctx, ops[0], *version)
	if err != nil && *version != "" && errors.Is(err, api.ErrNotFound) {
		return failf("%s: see 'hearth app ls' and 'hearth store'", err)
	}
	if err != nil {
		return appError(err, ops[0])
	}
	return c.follow(ctx, op, *noWait)
}

func (c *cli) appMove(ctx context.Context, args []string) error {
	fs := c.flags("app move")
	ops, err := parse(fs, "app move", args, []string{"<id>", "<name>"}, nil)
	if err != nil {
		return err
	}
	app, err := c.api().Move(ctx, ops[0], ops[1])
	if err != nil {
		return appError(err, ops[0])
	}
	if c.json {
		return c.printJSON(app)
	}
	fmt.Fprintf(c.stdout, "%s now answers at:\n", app.ID)
	for _, u := range app.URLs {
		fmt.Fprintf(c.stdout, "  %s\n", u)
	}
	return nil
}

func (c *cli) appUninstall(ctx context.Context, args []string) error {
	fs := c.flags("app uninstall")
	keep := fs.Bool("keep-data", false, "keep the app's data folder")
	noWait := fs.Bool("no-wait", false, "print the operation's id and return at once")
	ops, err := parse(fs, "app uninstall", args, []string{"<id>"}, nil)
	if err != nil {
		return err
	}
	op, err := c.api().Uninstall(ctx, ops[0], *keep)
	if err != nil {
		return appError(err, ops[0])
	}
	return c.follow(ctx, op, *noWait)
}
