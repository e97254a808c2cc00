package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/examples/internal/cli"
	"github.com/proxkit/proxkit/pbs"
)

func main() { cli.Main("verify", run) }

func run(ctx context.Context, app *cli.App) error {
	fs := app.FlagSet("[--repository R] [--ns NS] [--reverify] [SNAPSHOT|GROUP]")
	repoFlags := cli.AddPBSFlags(fs)
	nsFlag := cli.AddNamespaceFlag(fs, "")
	reverify := fs.Bool("reverify", false, "verify snapshots again that were verified before")
	args, err := app.ParseArgs(fs, 0, 1)
	if err != nil {
		return err
	}
	ns, err := nsFlag.Namespace()
	if err != nil {
		return err
	}
	opts := pbs.VerifyOptions{Namespace: ns}
	if *reverify {
		opts.IgnoreVerified = new(bool)
	}
	var filter pbs.SnapshotFilter
	if len(args) == 1 {
		if err := selectTarget(args[0], &opts); err != nil {
			return err
		}
		filter = pbs.SnapshotFilter{Type: opts.Group.Type, ID: opts.Group.ID}
	}
	target, client, err := repoFlags.Connect(ctx, app)
	if err != nil {
		return err
	}
	store := target.Datastore()

	upid, err := client.Datastore.StartVerify(ctx, store, opts)
	if err != nil {
		return err
	}
	progress := app.Progress()
	status, waitErr := client.Datastore.WaitTask(ctx, upid, &pbs.WaitOptions{
		Log: func(l pbs.TaskLogLine) { progress.Printf("%s", l.Text) },
	})
	progress.Done()
	if waitErr != nil && !errors.Is(waitErr, pbs.ErrTaskFailed) {
		return waitErr
	}

	// The task records each snapshot's outcome in its manifest; report
	// those this task decided.
	snaps, err := client.Datastore.ListSnapshots(ctx, store, ns, filter)
	if err != nil {
		return err
	}
	var ok, failed int
	for _, s := range snaps {
		if !opts.Time.IsZero() && !s.Snapshot.Time.Equal(opts.Time) {
			continue
		}
		if s.Verification == nil {
			continue
		}
		mark := " (before)"
		if s.Verification.UPID.String() == upid.String() {
			mark = ""
		}
		fmt.Fprintf(app.Stdout, "%s %s%s\n", s.Snapshot, s.Verification.State, mark)
		if s.Verification.State == pbs.VerifyOK {
			ok++
		} else {
			failed++
		}
	}
	if waitErr != nil || failed > 0 {
		verdict := "failed"
		if status != nil {
			verdict = strings.TrimSpace(status.ExitStatus)
		}
		return fmt.Errorf("verification failed: %d ok, %d failed (task %s: %s)", ok, failed, upid, verdict)
	}
	_, err = fmt.Fprintf(app.Stdout, "verify OK: %d ok, %d failed\n", ok, failed)
	return err
}

// selectTarget reads a SNAPSHOT or GROUP argument into opts.
func selectTarget(arg string, opts *pbs.VerifyOptions) error {
	if strings.Count(arg, "/") >= 2 {
		snap, err := datastore.ParseSnapshot(arg)
		if err != nil {
			return cli.Usagef("snapshot: %v", err)
		}
		opts.Group, opts.Time = snap.Group, snap.Time
		return nil
	}
	g, err := datastore.ParseGroup(arg)
	if err != nil {
		return cli.Usagef("group: %v", err)
	}
	opts.Group = g
	return nil
}
