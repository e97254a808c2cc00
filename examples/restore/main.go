package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/examples/internal/cli"
	"github.com/proxkit/proxkit/pbs"
)

func main() { cli.Main("restore", run) }

func run(ctx context.Context, app *cli.App) error {
	fs := app.FlagSet("[--repository R] [--ns NS] SNAPSHOT ARCHIVE [OUT]")
	repoFlags := cli.AddPBSFlags(fs)
	nsFlag := cli.AddNamespaceFlag(fs, "")
	args, err := app.ParseArgs(fs, 2, 3)
	if err != nil {
		return err
	}
	ns, err := nsFlag.Namespace()
	if err != nil {
		return err
	}
	snap, err := datastore.ParseSnapshot(args[0])
	if err != nil {
		return cli.Usagef("SNAPSHOT: %v", err)
	}
	archive := args[1]
	out := "-"
	if len(args) == 3 {
		out = args[2]
	}
	target, client, err := repoFlags.Connect(ctx, app)
	if err != nil {
		return err
	}
	start := time.Now()
	r, err := client.StartReader(ctx, pbs.ReaderOptions{Datastore: target.Datastore(), Namespace: ns, Snapshot: snap})
	if err != nil {
		return err
	}
	defer r.Close()

	summary := app.Stdout
	var n int64
	if out == "-" {
		summary = app.Stderr
		n, err = restoreTo(ctx, app, r, archive, app.Stdout)
	} else {
		n, err = restoreFile(ctx, app, r, archive, out)
	}
	if err != nil {
		return err
	}
	d := time.Since(start)
	_, err = fmt.Fprintf(summary, "restored %s of %s: %s in %s (%s)\n", archive, snap, cli.Bytes(n), d.Round(time.Millisecond), cli.Rate(n, d))
	return err
}

// restoreTo writes the archive to w with a progress line on a terminal.
func restoreTo(ctx context.Context, app *cli.App, r *pbs.ReaderSession, archive string, w io.Writer) (int64, error) {
	progress := app.Progress()
	defer progress.Done()
	cw := &countingWriter{w: w, progress: progress}
	return r.RestoreArchive(ctx, archive, cw)
}

// restoreFile writes the archive to a temporary file next to path and
// renames it to path once the whole archive verified.
func restoreFile(ctx context.Context, app *cli.App, r *pbs.ReaderSession, archive, path string) (_ int64, err error) {
	tmp, err := createPartial(path)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := restoreTo(ctx, app, r, archive, tmp)
	if err != nil {
		return 0, err
	}
	if err := tmp.Sync(); err != nil {
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, errors.Join(err, os.Remove(tmp.Name()))
	}
	return n, nil
}

// createPartial creates a new hidden file next to path. Unlike
// os.CreateTemp (mode 0600) it leaves the mode to the umask, as creating
// path itself would.
func createPartial(path string) (*os.File, error) {
	for range 100 {
		var rnd [6]byte
		if _, err := rand.Read(rnd[:]); err != nil {
			return nil, err
		}
		name := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".partial-"+hex.EncodeToString(rnd[:]))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, os.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("cannot create a temporary file next to %s", path)
}

// countingWriter counts what passes through for the progress line.
type countingWriter struct {
	w        io.Writer
	n        atomic.Int64
	progress *cli.Progress
}

// Write implements io.Writer.
func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	total := c.n.Add(int64(n))
	c.progress.Printf("restored %s", cli.Bytes(total))
	return n, err
}
