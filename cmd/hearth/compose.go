package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/compose"
	"github.com/hearthbox/hearth/agent/manifest"
)

// refused is the failure of an import that cannot be installed: it exits
// with exitUsage (2), as `app import --dry-run` promises.
type refused struct{ failure }

// isPath says whether an install argument names a compose project rather
// than a catalog app.
func isPath(arg string) bool {
	if strings.ContainsAny(arg, "/.") {
		return true
	}
	_, err := os.Stat(arg)
	return err == nil
}

// importProject turns a compose project into a plan, here on the box.
func importProject(ctx context.Context, path, appID string) (*compose.Plan, error) {
	plan, err := compose.Import(ctx, path, compose.Options{AppID: appID})
	if err != nil {
		return nil, failf("import %s: %v", path, err)
	}
	return plan, nil
}

// printPlan shows what an import would install.
func (c *cli) printPlan(plan *compose.Plan) error {
	if c.json {
		return c.printJSON(plan.Redacted())
	}
	if plan.Refused != nil {
		fmt.Fprintf(c.stdout, "refused: %s\n", plan.Refused)
		return nil
	}
	m := plan.Manifest
	fmt.Fprintf(c.stdout, "%s (%s project) as app %q, version %s\n", m.Title, plan.Kind, m.ID, m.Version)
	if name, port, ok := m.HTTPService(); ok {
		fmt.Fprintf(c.stdout, "web entry:    service %s, port %d\n", name, port)
	}
	for _, name := range sortedServices(m.Services) {
		s := m.Services[name]
		fmt.Fprintf(c.stdout, "service %s: %s\n", name, s.Image.Ref)
		for _, v := range s.Volumes {
			if v.Kind == manifest.VolumeHost {
				fmt.Fprintf(c.stdout, "  host path %s -> %s%s\n", v.Source, v.Target, readOnly(v.ReadOnly))
				continue
			}
			fmt.Fprintf(c.stdout, "  volume %s -> %s\n", v.Source, v.Target)
		}
		for _, f := range s.Files {
			fmt.Fprintf(c.stdout, "  file %s (%d bytes, read-only)\n", f.Target, len(f.Content))
		}
		for _, h := range []struct {
			on   bool
			what string
		}{{s.Privileged, "privileged: root on the host"}, {s.HostNetwork, "on the host's network"}, {s.HostPID, "sees the host's processes"}} {
			if h.on {
				fmt.Fprintf(c.stdout, "  %s\n", h.what)
			}
		}
		for _, p := range s.Ports {
			fmt.Fprintf(c.stdout, "  port %d/%s: %s\n", p.Port, p.Protocol, p.Reason)
		}
	}
	if len(plan.Permissions) > 0 {
		perms := make([]string, len(plan.Permissions))
		for i, p := range plan.Permissions {
			perms[i] = string(p)
		}
		fmt.Fprintf(c.stdout, "permissions:  %s\n", strings.Join(perms, ", "))
	}
	for _, w := range plan.Warnings {
		fmt.Fprintf(c.stdout, "warning: %s\n", w)
	}
	return nil
}

// appImport shows (with --dry-run) or installs a compose project.
func (c *cli) appImport(ctx context.Context, args []string) error {
	fs := c.flags("app import")
	dry := fs.Bool("dry-run", false, "print the plan and install nothing")
	id := fs.String("id", "", "the app's id (default: from the project)")
	var granted grants
	fs.Var(&granted, "grant", grantUsage)
	noWait := fs.Bool("no-wait", false, "print the operation's id and return at once")
	ops, err := parse(fs, "app import", args, []string{"<folder or compose file>"}, nil)
	if err != nil {
		return err
	}
	plan, err := importProject(ctx, ops[0], *id)
	if err != nil {
		return err
	}
	if *dry {
		if err := c.printPlan(plan); err != nil {
			return err
		}
		if plan.Refused != nil {
			return &refused{failure{line: fmt.Sprintf("%s cannot be installed: %s", ops[0], plan.Refused)}}
		}
		return nil
	}
	return c.installPlan(ctx, ops[0], plan, nil, granted, *noWait)
}

// installPlan installs an imported project. The host permissions it asks
// for must be granted (the agent checks again).
func (c *cli) installPlan(ctx context.Context, path string, plan *compose.Plan, set settings, granted grants, noWait bool) error {
	if plan.Refused != nil {
		return &refused{failure{line: fmt.Sprintf("%s cannot be installed: %s: see 'hearth app import --dry-run %s'", path, plan.Refused, path)}}
	}
	var missing []string
	for _, p := range manifest.HostPermissions() {
		if plan.Manifest.Has(p) && !slices.Contains(granted, string(p)) {
			missing = append(missing, string(p))
		}
	}
	if len(missing) > 0 {
		return failf("%s asks for %s, which reach beyond its sandbox into the host: see 'hearth app import --dry-run %s', then add --grant %s to install it",
			path, strings.Join(missing, ", "), path, strings.Join(missing, ","))
	}
	raw, err := json.Marshal(plan.Manifest)
	if err != nil {
		return fmt.Errorf("encode the manifest: %w", err)
	}
	req := api.InstallRequest{App: plan.Manifest.ID, Manifest: raw, Grants: granted}
	if len(set) > 0 {
		req.Settings = set
	}
	op, err := c.api().Install(ctx, req)
	if err != nil {
		return installError(err, plan.Manifest.ID)
	}
	return c.follow(ctx, op, noWait)
}

// readOnly marks a read-only mount in a plan.
func readOnly(ro bool) string {
	if ro {
		return " (read-only)"
	}
	return ""
}

func sortedServices[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
