package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/examples/internal/cli"
	"github.com/proxkit/proxkit/pbs"
)

func main() { cli.Main("snapshots", run) }

func run(ctx context.Context, app *cli.App) error {
	fs := app.FlagSet("[--repository R] [--ns NS] [--output-format text|json] [GROUP]")
	repoFlags := cli.AddPBSFlags(fs)
	nsFlag := cli.AddNamespaceFlag(fs, "")
	format := fs.String("output-format", "text", "text or json")
	args, err := app.ParseArgs(fs, 0, 1)
	if err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return cli.Usagef("--output-format: want text or json, got %q", *format)
	}
	ns, err := nsFlag.Namespace()
	if err != nil {
		return err
	}
	var filter pbs.SnapshotFilter
	if len(args) == 1 {
		g, err := datastore.ParseGroup(args[0])
		if err != nil {
			return cli.Usagef("group: %v", err)
		}
		filter = pbs.SnapshotFilter{Type: g.Type, ID: g.ID}
	}
	target, client, err := repoFlags.Connect(ctx, app)
	if err != nil {
		return err
	}
	snaps, err := client.Datastore.ListSnapshots(ctx, target.Datastore(), ns, filter)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(app.Stdout, snaps)
	}
	return writeText(app.Stdout, snaps)
}

// snapshotJSON is the json output of one snapshot.
type snapshotJSON struct {
	Snapshot  string   `json:"snapshot"`
	Size      *uint64  `json:"size,omitempty"`
	Verify    string   `json:"verify,omitempty"`
	Protected bool     `json:"protected"`
	Owner     string   `json:"owner,omitempty"`
	Comment   string   `json:"comment,omitempty"`
	Files     []string `json:"files"`
}

func writeJSON(w io.Writer, snaps []pbs.SnapshotInfo) error {
	out := make([]snapshotJSON, 0, len(snaps))
	for _, s := range snaps {
		j := snapshotJSON{
			Snapshot:  s.Snapshot.String(),
			Size:      s.Size,
			Verify:    verifyState(s),
			Protected: s.Protected,
			Comment:   s.Comment,
			Files:     fileNames(s),
		}
		if !s.Owner.IsZero() {
			j.Owner = s.Owner.String()
		}
		out = append(out, j)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func writeText(w io.Writer, snaps []pbs.SnapshotInfo) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range snaps {
		size := "-"
		if s.Size != nil {
			size = cli.Bytes(int64(*s.Size))
		}
		verify := verifyState(s)
		if verify == "" {
			verify = "unverified"
		}
		prot := ""
		if s.Protected {
			prot = "protected"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Snapshot, size, verify, prot, strings.Join(fileNames(s), " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	noun := "snapshots"
	if len(snaps) == 1 {
		noun = "snapshot"
	}
	_, err := fmt.Fprintf(w, "%d %s\n", len(snaps), noun)
	return err
}

func verifyState(s pbs.SnapshotInfo) string {
	if s.Verification == nil {
		return ""
	}
	return string(s.Verification.State)
}

func fileNames(s pbs.SnapshotInfo) []string {
	names := make([]string, 0, len(s.Files))
	for _, f := range s.Files {
		names = append(names, f.Filename)
	}
	return names
}
