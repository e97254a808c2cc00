package main

import (
	"context"
	"fmt"

	"github.com/proxkit/proxkit/examples/internal/cli"
)

func main() { cli.Main("benchmark", run) }

func run(ctx context.Context, app *cli.App) error {
	fs := app.FlagSet("[--repository R] [--output-format text|json|json-pretty] [--scale F]")
	repo := cli.AddPBSFlags(fs)
	format := fs.String("output-format", "text", "text, json or json-pretty")
	scale := fs.Float64("scale", 1, "factor on the measuring times of proxmox-backup-client (5s for TLS, 1s per local test, 3s for compression)")
	if _, err := app.ParseArgs(fs, 0, 0); err != nil {
		return err
	}
	if *scale <= 0 || *scale > 100 {
		return cli.Usagef("--scale: want a factor above 0 and at most 100, got %v", *scale)
	}
	switch *format {
	case "text", "json", "json-pretty":
	default:
		return cli.Usagef("--output-format: want text, json or json-pretty, got %q", *format)
	}
	logf := func(f string, args ...any) { fmt.Fprintf(app.Stderr, f+"\n", args...) }

	res := referenceResults()
	d := referenceDurations(*scale)
	// The server test comes first, as upstream, so that a bad repository
	// or secret fails before the local tests take their time.
	if repositoryGiven(fs, app) {
		var err error
		if res.TLS.Speed, err = measureTLS(ctx, app, repo, d.tls); err != nil {
			return err
		}
		logf("TLS speed: %.2f MB/s", *res.TLS.Speed/1e6)
	}
	if err := localResults(&res, testData(testDataSize), d, logf); err != nil {
		return err
	}
	return writeResults(app.Stdout, &res, *format)
}
