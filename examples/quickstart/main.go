package main

import (
	"context"
	"fmt"
	"os"

	"github.com/proxkit/proxkit/examples/internal/cli"
	"github.com/proxkit/proxkit/pbs/pbstest"
	"github.com/proxkit/proxkit/pve/pvetest"
)

func main() { cli.Main("quickstart", run) }

func run(ctx context.Context, app *cli.App) error {
	fs := app.FlagSet("")
	if _, err := app.ParseArgs(fs, 0, 0); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "proxkit-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	pbsSrv, err := pbstest.Start()
	if err != nil {
		return err
	}
	defer pbsSrv.Close()
	pveSrv, err := pvetest.Start()
	if err != nil {
		return err
	}
	defer pveSrv.Close()

	n := &narrator{w: app.Stdout}
	fmt.Fprintln(app.Stdout, "proxkit quickstart: API tokens with least privilege, then backups, on in-process mock servers")
	if err := pbsAccessStory(ctx, n, pbsSrv, dir); err != nil {
		return fmt.Errorf("PBS access: %w", err)
	}
	if err := pveAccessStory(ctx, n, pveSrv); err != nil {
		return fmt.Errorf("PVE access: %w", err)
	}
	if err := pbsBackupStory(ctx, n, pbsSrv, dir); err != nil {
		return fmt.Errorf("PBS backups: %w", err)
	}
	fmt.Fprintln(app.Stdout, "\nDone.")
	return nil
}
