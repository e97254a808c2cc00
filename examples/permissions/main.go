package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/examples/internal/cli"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pve"
)

func main() { cli.Main("permissions", run) }

func run(ctx context.Context, app *cli.App) error {
	fs := app.FlagSet("[-product pve|pbs] [--repository R | --url U --authid A] [--of ID] [--path PATH] [--output-format text|json]")
	targetFlags := cli.AddTargetFlags(fs)
	of := fs.String("of", "", "user or token id to report on (default: the caller)")
	path := fs.String("path", "", "report on this ACL path only")
	format := fs.String("output-format", "text", "text or json")
	if _, err := app.ParseArgs(fs, 0, 0); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return cli.Usagef("--output-format: want text or json, got %q", *format)
	}
	var subject auth.Authid
	if *of != "" {
		id, err := auth.ParseAuthid(*of)
		if err != nil {
			return cli.Usagef("--of: %v", err)
		}
		subject = id
	}
	target, err := targetFlags.Load(ctx, app)
	if err != nil {
		return err
	}
	var perms map[string]acl.PrivSet
	if target.Product == auth.PBS {
		c, err := target.PBS.Client()
		if err != nil {
			return err
		}
		perms, err = c.Access.GetPermissions(ctx, &pbs.PermissionsOptions{AuthID: subject, Path: *path})
		if err != nil {
			return err
		}
	} else {
		c, err := target.PVE.Client()
		if err != nil {
			return err
		}
		perms, err = c.Access.Permissions(ctx, &pve.PermissionsOptions{AuthID: subject, Path: *path})
		if err != nil {
			return err
		}
	}
	if *format == "json" {
		return writeJSON(app.Stdout, perms)
	}
	// PBS leaves out a path asked for when nothing is held there; say so.
	if _, ok := perms[*path]; *path != "" && !ok {
		perms = map[string]acl.PrivSet{*path: nil}
	}
	if len(perms) == 0 {
		_, err := fmt.Fprintln(app.Stdout, "(no privileges anywhere)")
		return err
	}
	return writeText(app.Stdout, perms)
}

func sortedPaths(perms map[string]acl.PrivSet) []string {
	paths := make([]string, 0, len(perms))
	for p := range perms {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

func writeText(w io.Writer, perms map[string]acl.PrivSet) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, p := range sortedPaths(perms) {
		set := perms[p]
		names := set.Names()
		line := "(none)"
		if len(names) > 0 {
			line = strings.Join(names, " ")
		}
		if here := onlyHere(set); len(here) > 0 {
			line += "  only here: " + strings.Join(here, " ")
		}
		fmt.Fprintf(tw, "%s\t%s\n", p, line)
	}
	return tw.Flush()
}

// onlyHere lists the privileges held at a path but not inherited below it.
func onlyHere(set acl.PrivSet) []string {
	var out []string
	for _, n := range set.Names() {
		if !set[n] {
			out = append(out, n)
		}
	}
	return out
}

// writeJSON prints {"path": {"Priv": true|false (propagates)}}, the shape
// PBS answers with.
func writeJSON(w io.Writer, perms map[string]acl.PrivSet) error {
	out := make(map[string]map[string]bool, len(perms))
	for p, set := range perms {
		m := make(map[string]bool, len(set))
		for n, prop := range set {
			m[n] = prop
		}
		out[p] = m
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
