// Package cli is the small flag and environment helper every example program
// shares, so that they all behave the same way on the command line:
//
//   - PBS settings come from --repository/--fingerprint or, when a flag is
//     not given, from PBS_REPOSITORY, the PBS_PASSWORD family (PBS_PASSWORD,
//     _FD, _FILE, _CMD) and PBS_FINGERPRINT, read by auth.LoadPBSEnvironment
//     exactly as proxmox-backup-client reads them;
//   - PVE settings come from --url/--authid/--fingerprint or PVE_URL,
//     PVE_AUTHID, the PVE_PASSWORD family and PVE_FINGERPRINT
//     (auth.LoadPVEEnvironment);
//   - a failure ends the program with one line "NAME: reason" on stderr and
//     exit status 1 (2 for a usage error); the line never holds a secret
//     the program loaded;
//   - progress is shown on stderr only when stderr is a terminal, so scripts
//     that capture output see only the summary lines.
//
// A program is a function of an *App:
//
//	func main() { cli.Main("snapshots", run) }
//
//	func run(ctx context.Context, app *cli.App) error {
//		fs := app.FlagSet("[--repository R] [--ns NS]")
//		repo := cli.AddPBSFlags(fs)
//		if err := app.Parse(fs); err != nil {
//			return err
//		}
//		target, err := repo.Load(ctx, app)
//		…
//	}
//
// Tests call (*App).Run with their own arguments, environment and buffers.
package cli
