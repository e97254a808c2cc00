package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/examples/internal/cli"
)

// repositoryGiven reports whether the TLS test is to run: --repository or
// PBS_REPOSITORY names a server. Without one the row stays "not tested",
// as in proxmox-backup-client.
func repositoryGiven(fs *flag.FlagSet, app *cli.App) bool {
	return fs.Lookup("repository").Value.String() != "" || app.Getenv(auth.EnvPBSRepository) != ""
}

// measureTLS runs the upload speed test of the repository's server: a
// benchmark session of host/benchmark in the root namespace posting 4 MiB
// buffers for d, which leaves no snapshot behind.
func measureTLS(ctx context.Context, app *cli.App, repo *cli.PBSFlags, d time.Duration) (*float64, error) {
	target, err := repo.Load(ctx, app)
	if err != nil {
		return nil, err
	}
	client, err := target.Client()
	if err != nil {
		return nil, err
	}
	res, err := client.UploadSpeedTest(ctx, target.Datastore(), d)
	if err != nil {
		return nil, fmt.Errorf("TLS upload test: %w", err)
	}
	v := res.BytesPerSecond()
	return &v, nil
}
