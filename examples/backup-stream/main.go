// Command backup-stream backs up a stream (stdin or a file) to PBS as a
// dynamic archive, chunked exactly as proxmox-backup-client chunks, so
// that unchanged data is not uploaded again by the next run:
//
//	pg_dump mydb | backup-stream db.sql
//	backup-stream [--repository R] [--ns NS] [--backup-type T] [--backup-id ID] [--backup-time T] ARCHIVE [FILE]
//
// FILE (or stdin, also for "-") is stored as ARCHIVE.didx in a new
// snapshot of group TYPE/ID (default host/<host name>). The repository,
// secret and fingerprint come from the flags or PBS_REPOSITORY,
// PBS_PASSWORD (and its _FD, _FILE, _CMD forms) and PBS_FINGERPRINT.
//
// stdout gets a summary line and, alone on the last line, the new snapshot
// as TYPE/ID/TIME (e.g. host/web01/2026-11-22T10:00:00Z), which restore
// takes. On failure nothing is left on the server, stderr has one line
// and the exit status is 1.
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
	if err := app.Parse(fs); err != nil {
		return err
	}
	args, err := cli.Args(fs, 1, 2)
	if err != nil {
		return err
	}
	archive := args[0]
	target, err := repoFlags.Load(ctx, app)
	if err != nil {
		return err
	}
	opts, err := backupFlags.Options(target.Datastore())
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
	return cli.Backup(ctx, app, client, opts, func(ctx context.Context, s *pbs.BackupSession) ([]*pbs.UploadResult, error) {
		r, err := s.UploadStream(ctx, archive, in)
		if err != nil {
			return nil, err
		}
		return []*pbs.UploadResult{r}, nil
	})
}
