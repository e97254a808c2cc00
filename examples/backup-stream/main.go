package main

import (
	"context"
	"io"
	"os"

	"github.com/proxkit/proxkit/examples/internal/cli"
	"github.com/proxkit/proxkit/pbs"
)

func main() { cli.Main("backup-stream", run) }

func run(ctx context.Context, app *cli.App) error {
	fs := app.FlagSet("[--repository R] [--ns NS] [--backup-type T] [--backup-id ID] [--backup-time T] ARCHIVE [FILE]")
	repoFlags := cli.AddPBSFlags(fs)
	backupFlags := cli.AddBackupFlags(fs)
	args, err := app.ParseArgs(fs, 1, 2)
	if err != nil {
		return err
	}
	archive := args[0]
	target, opts, err := backupFlags.Load(ctx, app, repoFlags)
	if err != nil {
		return err
	}
	var in io.Reader = app.Stdin
	if len(args) == 2 && args[1] != "-" {
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	client, err := target.Client()
	if err != nil {
		return err
	}
	return cli.Backup(ctx, app, client, opts, func(ctx context.Context, s *pbs.BackupSession) (*pbs.UploadResult, error) {
		return s.UploadStream(ctx, archive, in)
	})
}
