package main

import (
	"context"
	"fmt"

	"github.com/proxkit/proxkit/examples/internal/cli"
)

func main() { cli.Main("benchmark", run) }

func run(ctx context.Context, app *cli.App) error {
	fs := app.FlagSet("[--output-format text|json|json-pretty] [--scale F]")
	format := fs.String("output-format", "text", "text, json or json-pretty")
	scale := fs.Float64("scale", 1, "factor on the measuring times of proxmox-backup-client (1s per test, 3s for compression)")
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
	if err := localResults(&res, testData(testDataSize), referenceDurations(*scale), logf); err != nil {
		return err
	}
	return writeResults(app.Stdout, &res, *format)
}
