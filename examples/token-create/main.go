package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/examples/internal/cli"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pve"
)

func main() { cli.Main("token-create", run) }

// request is what the flags ask for.
type request struct {
	id          auth.Authid
	createUser  bool
	comment     string
	expire      time.Time
	noPrivsep   bool
	config      string
	secretFile  string
	printSecret bool
	force       bool
	ns          datastore.Namespace
}

func run(ctx context.Context, app *cli.App) error {
	fs := app.FlagSet("[-product pve|pbs] [--repository R | --url U --authid A] [options] TOKENID")
	targetFlags := cli.AddTargetFlags(fs)
	var req request
	fs.BoolVar(&req.createUser, "create-user", false, "create the token's user first if it does not exist")
	fs.StringVar(&req.comment, "comment", "", "comment of the token")
	expire := fs.String("expire", "", "expiry, Unix seconds or YYYY-MM-DDTHH:MM:SSZ (default: never)")
	fs.BoolVar(&req.noPrivsep, "no-privsep", false, "PVE only: the token gets all of its user's privileges instead of its own ACL entries")
	fs.StringVar(&req.config, "config", "", "PBS only: where to write the pbs-config.json (default ./pbs-config.json)")
	fs.StringVar(&req.secretFile, "secret-file", "", "write the secret alone into this file (mode 0600)")
	fs.BoolVar(&req.printSecret, "print-secret", false, "print the secret as the last line of stdout")
	fs.BoolVar(&req.force, "force", false, "replace existing files")
	nsFlag := cli.AddNamespaceFlag(fs, "PBS only: namespace to put into the pbs-config.json")
	args, err := app.ParseArgs(fs, 1, 1)
	if err != nil {
		return err
	}
	if req.id, err = auth.ParseAuthid(args[0]); err != nil {
		return cli.Usagef("TOKENID: %v", err)
	}
	if !req.id.IsToken() {
		return cli.Usagef("TOKENID: %s is a user id; a token id is USER@REALM!NAME", req.id)
	}
	if *expire != "" {
		if req.expire, err = cli.ParseTime(*expire); err != nil {
			return cli.Usagef("--expire: %v", err)
		}
	}
	if req.ns, err = nsFlag.Namespace(); err != nil {
		return err
	}
	target, err := targetFlags.Load(ctx, app)
	if err != nil {
		return err
	}
	if target.Product == auth.PBS {
		return createPBS(ctx, app, target.PBS, req)
	}
	return createPVE(ctx, app, target.PVE, req)
}

func createPBS(ctx context.Context, app *cli.App, target *cli.PBS, req request) error {
	if req.noPrivsep {
		return cli.Usagef("--no-privsep: PBS tokens are always privilege-separated")
	}
	if req.config == "" {
		req.config = "pbs-config.json"
	}
	if err := checkWritable(req.config, req.force); err != nil {
		return err
	}
	if err := checkWritable(req.secretFile, req.force); err != nil {
		return err
	}
	c, err := target.Client()
	if err != nil {
		return err
	}
	if req.createUser {
		err := c.Access.CreateUser(ctx, pbs.NewUser{ID: req.id.User(), Comment: "created by token-create"})
		if err != nil && !errors.Is(err, pbs.ErrExists) {
			return err
		}
	}
	tok, err := c.Access.CreateToken(ctx, req.id, pbs.TokenOptions{Comment: req.comment, Expire: req.expire})
	if err != nil {
		return err
	}
	app.Redact(tok.Secret)
	fmt.Fprintf(app.Stdout, "created API token %s (privilege separated, %s)\n", tok.ID, expiry(req.expire))

	repo := target.Repository
	repo.AuthID = tok.ID
	cfg, err := auth.NewPBSConfig(repo, tok.Secret, target.Fingerprint, req.ns.String())
	if err != nil {
		return err
	}
	if err := auth.WritePBSConfig(req.config, cfg); err != nil {
		return fmt.Errorf("the token exists, but its config could not be written: %w", err)
	}
	fmt.Fprintf(app.Stdout, "wrote %s (mode 0600)\n", req.config)
	fmt.Fprintf(app.Stdout, "next: acl-grant /datastore/%s DatastoreBackup %s (the token has no privileges yet)\n", repo.Datastore, tok.ID)
	return deliverSecret(app, req, tok.Secret)
}

func createPVE(ctx context.Context, app *cli.App, target *cli.PVE, req request) error {
	if req.config != "" || !req.ns.IsRoot() {
		return cli.Usagef("--config and --ns are for PBS tokens; use --secret-file or --print-secret")
	}
	if req.secretFile == "" && !req.printSecret {
		return cli.Usagef("the secret is shown only once: give --secret-file FILE or --print-secret")
	}
	if err := checkWritable(req.secretFile, req.force); err != nil {
		return err
	}
	c, err := target.Client()
	if err != nil {
		return err
	}
	if req.createUser {
		err := c.Access.CreateUser(ctx, req.id.User(), &pve.UserOptions{Comment: "created by token-create"})
		if err != nil && !errors.Is(err, pve.ErrExists) {
			return err
		}
	}
	opts := &pve.TokenOptions{Comment: req.comment, Expire: req.expire}
	if req.noPrivsep {
		opts.Privsep = pve.Ptr(false)
	}
	tok, err := c.Access.CreateToken(ctx, req.id, opts)
	if err != nil {
		return err
	}
	app.Redact(tok.Secret)
	sep := "privilege separated"
	if !tok.Privsep {
		sep = "not separated: it has all of its user's privileges"
	}
	fmt.Fprintf(app.Stdout, "created API token %s (%s, %s)\n", tok.ID, sep, expiry(req.expire))
	if tok.Privsep {
		fmt.Fprintf(app.Stdout, "next: acl-grant -product pve PATH ROLE %s (the token has no privileges yet)\n", tok.ID)
	}
	return deliverSecret(app, req, tok.Secret)
}

func expiry(t time.Time) string {
	if t.IsZero() {
		return "no expiry"
	}
	return "expires " + t.UTC().Format(time.RFC3339)
}

// deliverSecret writes the secret file and prints the secret, as asked.
func deliverSecret(app *cli.App, req request, secret auth.Secret) error {
	if req.secretFile != "" {
		if err := writeSecretFile(req.secretFile, secret, req.force); err != nil {
			return fmt.Errorf("the token exists, but its secret could not be written: %w", err)
		}
		fmt.Fprintf(app.Stdout, "wrote the secret to %s (mode 0600)\n", req.secretFile)
	}
	if req.printSecret {
		// Asked for explicitly: the one place a secret goes to stdout.
		fmt.Fprintln(app.Stdout, secret.Reveal())
	}
	return nil
}

// checkWritable refuses to go on when path exists and force is not set,
// before the token is created, so that no secret is lost.
func checkWritable(path string, force bool) error {
	if path == "" || force {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s exists (use --force to replace it)", path)
	}
	return nil
}

// writeSecretFile writes secret and a newline to a new file of mode 0600;
// with force an existing file is removed first, so that its old
// permissions are not kept.
func writeSecretFile(path string, secret auth.Secret, force bool) error {
	if force {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(secret.Reveal() + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
