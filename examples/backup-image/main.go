package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/proxkit/proxkit/examples/internal/cli"
	"github.com/proxkit/proxkit/pbs"
)

func main() { cli.Main("backup-image", run) }

func run(ctx context.Context, app *cli.App) error {
	fs := app.FlagSet("[--repository R] [--ns NS] [--backup-type T] [--backup-id ID] [--backup-time T] ARCHIVE FILE")
	repoFlags := cli.AddPBSFlags(fs)
	backupFlags := cli.AddBackupFlags(fs)
	args, err := app.ParseArgs(fs, 2, 2)
	if err != nil {
		return err
	}
	archive, path := args[0], args[1]
	target, opts, err := backupFlags.Load(ctx, app, repoFlags)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	size, err := imageSize(f)
	if err != nil {
		return err
	}
	client, err := target.Client()
	if err != nil {
		return err
	}
	return cli.Backup(ctx, app, client, opts, func(ctx context.Context, s *pbs.BackupSession) (*pbs.UploadResult, error) {
		// An *os.File is an io.ReaderAt: chunks are read in parallel.
		return s.UploadImage(ctx, archive, f, size)
	})
}

// imageSize is the size of a regular file or of a block device (whose
// Stat size is 0, so it is measured by seeking to its end).
func imageSize(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Mode().IsRegular() {
		if st.Size() == 0 {
			return 0, fmt.Errorf("%s is empty", f.Name())
		}
		return st.Size(), nil
	}
	if st.Mode()&os.ModeDevice == 0 {
		return 0, fmt.Errorf("%s is neither a file nor a block device", f.Name())
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	if size == 0 {
		return 0, errors.New(f.Name() + " has size 0")
	}
	return size, nil
}
