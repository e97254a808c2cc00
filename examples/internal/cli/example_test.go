package cli_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/examples/internal/cli"
)

// A program's body gets its settings from flags and the environment and
// returns an error; Run turns that into one line and the exit status.
func ExampleApp_Run() {
	run := func(ctx context.Context, app *cli.App) error {
		fs := app.FlagSet("[--repository R]")
		repo := cli.AddPBSFlags(fs)
		if err := app.Parse(fs); err != nil {
			return err
		}
		target, err := repo.Load(ctx, app)
		if err != nil {
			return err
		}
		fmt.Fprintln(app.Stdout, "datastore", target.Datastore(), "on", target.Repository.BaseURL())
		return errors.New("PBS GET /admin/datastore/store1/snapshots: HTTP 403 Forbidden\nhint: the token has no ACL entry of its own")
	}
	app := &cli.App{
		Name:   "snapshots",
		Stdout: os.Stdout,
		Stderr: os.Stdout, // to show the error line here
		Lookup: auth.MapEnv(map[string]string{
			"PBS_REPOSITORY": "backup@pbs!client@pbs.example.com:store1",
			"PBS_PASSWORD":   "not-shown-anywhere",
		}),
	}
	code := app.Run(context.Background(), run)
	fmt.Println("exit status", code)
	// Output:
	// datastore store1 on https://pbs.example.com:8007
	// snapshots: PBS GET /admin/datastore/store1/snapshots: HTTP 403 Forbidden; hint: the token has no ACL entry of its own
	// exit status 1
}

func ExampleBytes() {
	fmt.Println(cli.Bytes(512), cli.Bytes(3<<19), cli.Bytes(5<<30))
	// Output: 512 B 1.50 MiB 5.00 GiB
}
