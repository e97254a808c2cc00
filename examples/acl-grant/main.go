package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/examples/internal/cli"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pve"
)

func main() { cli.Main("acl-grant", run) }

// change is one grant or revoke as the arguments name it.
type change struct {
	path      string
	role      string
	ids       []auth.Authid
	groups    []string
	revoke    bool
	propagate bool
}

func run(ctx context.Context, app *cli.App) error {
	fs := app.FlagSet("[-product pve|pbs] [--repository R | --url U --authid A] [--revoke] [--no-propagate] PATH ROLE SUBJECT...")
	targetFlags := cli.AddTargetFlags(fs)
	revoke := fs.Bool("revoke", false, "remove the entries instead of adding them")
	noPropagate := fs.Bool("no-propagate", false, "the entries apply to PATH only, not to the paths below it")
	args, err := app.ParseArgs(fs, 3, -1)
	if err != nil {
		return err
	}
	ch := change{path: args[0], role: args[1], revoke: *revoke, propagate: !*noPropagate}
	if !strings.HasPrefix(ch.path, "/") {
		return cli.Usagef("PATH %q: ACL paths start with /", ch.path)
	}
	for _, s := range args[2:] {
		if name, ok := strings.CutPrefix(s, "@"); ok {
			ch.groups = append(ch.groups, name)
			continue
		}
		id, err := auth.ParseAuthid(s)
		if err != nil {
			return cli.Usagef("SUBJECT: %v", err)
		}
		ch.ids = append(ch.ids, id)
	}
	target, err := targetFlags.Load(ctx, app)
	if err != nil {
		return err
	}
	if target.Product == auth.PBS {
		return applyPBS(ctx, app, target.PBS, ch)
	}
	return applyPVE(ctx, app, target.PVE, ch)
}

func (ch change) verb() string {
	if ch.revoke {
		return "revoked"
	}
	return "granted"
}

func (ch change) report(app *cli.App, subject string) {
	prep, inherit := "to", ""
	if ch.revoke {
		prep = "from"
	} else if !ch.propagate {
		inherit = " (this path only)"
	}
	fmt.Fprintf(app.Stdout, "%s %s on %s %s %s%s\n", ch.verb(), ch.role, ch.path, prep, subject, inherit)
}

func applyPBS(ctx context.Context, app *cli.App, target *cli.PBS, ch change) error {
	if len(ch.groups) > 0 {
		return cli.Usagef("SUBJECT @%s: PBS has no groups; name users and tokens", ch.groups[0])
	}
	c, err := target.Client()
	if err != nil {
		return err
	}
	// PBS takes one role and one subject per call.
	for _, id := range ch.ids {
		u := pbs.ACLUpdate{Path: ch.path, Role: ch.role, AuthID: id, Propagate: &ch.propagate}
		if ch.revoke {
			err = c.Access.RevokeACL(ctx, u)
		} else {
			err = c.Access.GrantACL(ctx, u)
		}
		if err != nil {
			return err
		}
		ch.report(app, id.String())
	}
	return nil
}

func applyPVE(ctx context.Context, app *cli.App, target *cli.PVE, ch change) error {
	c, err := target.Client()
	if err != nil {
		return err
	}
	req := pve.ACLChange{Path: ch.path, Roles: []string{ch.role}, Groups: ch.groups, Propagate: &ch.propagate}
	for _, id := range ch.ids {
		if id.IsToken() {
			req.Tokens = append(req.Tokens, id)
		} else {
			req.Users = append(req.Users, id.User())
		}
	}
	if ch.revoke {
		err = c.Access.Revoke(ctx, req)
	} else {
		err = c.Access.Grant(ctx, req)
	}
	if err != nil {
		return err
	}
	// PVE applies the whole change in one call.
	for _, id := range ch.ids {
		ch.report(app, id.String())
	}
	for _, g := range ch.groups {
		ch.report(app, "group "+g)
	}
	return nil
}
