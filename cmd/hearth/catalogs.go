package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hearthbox/hearth/agent/api"
)

func (c *cli) catalogList(ctx context.Context, args []string) error {
	fs := c.flags("catalog ls")
	if _, err := parse(fs, "catalog ls", args, nil, nil); err != nil {
		return err
	}
	cs, err := c.api().Catalogs(ctx)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(nonNil(cs))
	}
	return c.showCatalogs(cs)
}

func (c *cli) catalogRefresh(ctx context.Context, args []string) error {
	fs := c.flags("catalog refresh")
	ops, err := parse(fs, "catalog refresh", args, nil, []string{"[id]"})
	if err != nil {
		return err
	}
	var id string
	if len(ops) == 1 {
		id = ops[0]
	}
	cs, err := c.api().RefreshCatalogs(ctx, id)
	if err != nil {
		return catalogError(err, id)
	}
	if c.json {
		err = c.printJSON(nonNil(cs))
	} else {
		err = c.showCatalogs(cs)
	}
	if err != nil {
		return err
	}
	var refused []string
	for _, cat := range cs {
		if cat.LastError != "" {
			refused = append(refused, fmt.Sprintf("%s (%s)", cat.ID, cat.LastError))
		}
	}
	if len(refused) > 0 {
		return failf("refused: %s: the last good copy stays in use; ask the catalog's publisher", strings.Join(refused, ", "))
	}
	return nil
}

func (c *cli) catalogAdd(ctx context.Context, args []string) error {
	fs := c.flags("catalog add")
	title := fs.String("title", "", "the catalog's title (default: the one it gives)")
	ops, err := parse(fs, "catalog add", args, []string{"<id>", "<url>", "<public-key>"}, nil)
	if err != nil {
		return err
	}
	cat, err := c.api().AddCatalog(ctx, api.AddCatalogRequest{ID: ops[0], URL: ops[1], PublicKey: ops[2], Title: *title})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(cat)
	}
	fmt.Fprintf(c.stdout, "following catalog %s (%s, %s, %d apps): see 'hearth store --catalog %s'\n", cat.ID, dash(cat.Title), kind(cat), cat.Apps, cat.ID)
	return nil
}

func (c *cli) catalogRemove(ctx context.Context, args []string) error {
	fs := c.flags("catalog remove")
	ops, err := parse(fs, "catalog remove", args, []string{"<id>"}, nil)
	if err != nil {
		return err
	}
	if err := c.api().RemoveCatalog(ctx, ops[0]); err != nil {
		return catalogError(err, ops[0])
	}
	if c.json {
		return c.printJSON(map[string]string{"removed": ops[0]})
	}
	fmt.Fprintf(c.stdout, "no longer following catalog %s\n", ops[0])
	return nil
}

// catalogError explains an error of a command on the catalog id.
func catalogError(err error, id string) error {
	if id != "" && errors.Is(err, api.ErrNotFound) {
		return failf("catalog %q is not followed: see 'hearth catalog ls'", id)
	}
	return err
}

// kind says whose a catalog is.
func kind(c api.Catalog) string {
	switch {
	case c.Official:
		return "official"
	case c.ThirdParty:
		return "third-party"
	}
	return "local"
}

func (c *cli) showCatalogs(cs []api.Catalog) error {
	if len(cs) == 0 {
		fmt.Fprintln(c.stdout, "no catalogs: see 'hearth catalog add'")
		return nil
	}
	tw := newTable(c.stdout)
	fmt.Fprintln(tw, "ID\tTITLE\tKIND\tAPPS\tSIGNED\tEXPIRES\tREFRESHED")
	for _, cat := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", cat.ID, dash(cat.Title), kind(cat), cat.Apps,
			c.when(cat.Timestamp), c.when(cat.Expires), c.when(cat.LastRefresh))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, cat := range cs {
		if cat.LastError != "" {
			fmt.Fprintf(c.stdout, "%s: last refresh refused: %s (the last good copy is in use)\n", cat.ID, oneLine(cat.LastError))
		}
	}
	return nil
}

func (c *cli) store(ctx context.Context, args []string) error {
	fs := c.flags("store")
	catalog := fs.String("catalog", "", "only this catalog's apps")
	if _, err := parse(fs, "store", args, nil, nil); err != nil {
		return err
	}
	apps, err := c.api().CatalogApps(ctx, *catalog)
	if err != nil {
		return catalogError(err, *catalog)
	}
	if c.json {
		return c.printJSON(nonNil(apps))
	}
	if len(apps) == 0 {
		fmt.Fprintln(c.stdout, "no apps to install: see 'hearth catalog ls'")
		return nil
	}
	tw := newTable(c.stdout)
	fmt.Fprintln(tw, "APP\tVERSION\tCATALOG\tCATEGORY\tMEMORY\tINSTALLED\tTAGLINE")
	for _, a := range apps {
		cat := a.Catalog
		if a.ThirdParty {
			cat += " (third-party)"
		}
		installed := "-"
		if a.Installed {
			installed = "yes"
		}
		mem := "-"
		if a.MemoryMin > 0 {
			mem = size(a.MemoryMin)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Version, cat, dash(a.Category), mem, installed, a.Tagline)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, "install one with 'hearth app install <app>'")
	return nil
}
