package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
)

// BackupFlags are the snapshot flags of the backup programs, named as in
// proxmox-backup-client: --ns, --backup-type, --backup-id, --backup-time.
type BackupFlags struct {
	ns            *NamespaceFlag
	typ, id, time string
}

// AddBackupFlags registers the snapshot flags on fs.
func AddBackupFlags(fs *flag.FlagSet) *BackupFlags {
	f := &BackupFlags{ns: AddNamespaceFlag(fs, "")}
	fs.StringVar(&f.typ, "backup-type", "host", "backup type: host, vm or ct")
	fs.StringVar(&f.id, "backup-id", "", "backup id (default: this host's name)")
	fs.StringVar(&f.time, "backup-time", "", "snapshot time, Unix seconds or YYYY-MM-DDTHH:MM:SSZ (default: now)")
	return f
}

// Load is repo.Load, then Options for the repository's datastore.
func (f *BackupFlags) Load(ctx context.Context, app *App, repo *PBSFlags) (*PBS, pbs.BackupOptions, error) {
	target, err := repo.Load(ctx, app)
	if err != nil {
		return nil, pbs.BackupOptions{}, err
	}
	opts, err := f.Options(target.Datastore())
	if err != nil {
		return nil, pbs.BackupOptions{}, err
	}
	return target, opts, nil
}

// Options checks the flags and returns the session options for store.
func (f *BackupFlags) Options(store string) (pbs.BackupOptions, error) {
	opts := pbs.BackupOptions{Datastore: store}
	var err error
	if opts.Namespace, err = f.ns.Namespace(); err != nil {
		return opts, err
	}
	if opts.Type, err = datastore.ParseBackupType(f.typ); err != nil {
		return opts, Usagef("--backup-type: %v", err)
	}
	opts.ID = f.id
	if opts.ID == "" {
		// proxmox-backup-client's default, too.
		if opts.ID, err = os.Hostname(); err != nil {
			return opts, fmt.Errorf("--backup-id not given and no host name: %w", err)
		}
	}
	if err := (datastore.Group{Type: opts.Type, ID: opts.ID}).Validate(); err != nil {
		return opts, Usagef("--backup-id: %v", err)
	}
	if f.time != "" {
		if opts.Time, err = ParseTime(f.time); err != nil {
			return opts, Usagef("--backup-time: %v", err)
		}
	}
	return opts, nil
}

// Backup runs one backup session: it starts it with opts, lets upload
// store the archive, finishes it, and prints the upload's summary line and
// then the snapshot "TYPE/ID/TIME" alone on the last line of stdout. A
// progress line is drawn on a terminal meanwhile. Any failure aborts the
// session, which leaves nothing behind on the server.
func Backup(ctx context.Context, app *App, c *pbs.Client, opts pbs.BackupOptions, upload func(ctx context.Context, s *pbs.BackupSession) (*pbs.UploadResult, error)) error {
	progress := app.Progress()
	defer progress.Done()
	opts.Progress = func(p pbs.Progress) {
		progress.Printf("read %s, %d new and %d reused chunks, uploaded %s",
			Bytes(p.BytesRead), p.NewChunks, p.ReusedChunks, Bytes(p.UploadedBytes))
	}
	s, err := c.StartBackup(ctx, opts)
	if err != nil {
		return err
	}
	r, err := upload(ctx, s)
	if err != nil {
		s.Abort()
		return err
	}
	res, err := s.Finish(ctx)
	if err != nil {
		return err
	}
	progress.Done()
	fmt.Fprintln(app.Stdout, Summary(r.File.Filename, r.Stats))
	_, err = fmt.Fprintln(app.Stdout, res.Snapshot)
	return err
}

// Summary is the one-line report of an upload: "db.sql.didx: 12.00 MiB in
// 5 chunks (2 new, 3 reused), 4.10 MiB uploaded in 1.2s (10.00 MiB/s)".
func Summary(name string, st pbs.UploadStats) string {
	return fmt.Sprintf("%s: %s in %d chunks (%d new, %d reused), %s uploaded in %s (%s)",
		name, Bytes(st.Bytes), st.Chunks, st.NewChunks, st.ReusedChunks,
		Bytes(st.UploadedBytes), st.Duration.Round(time.Millisecond), Rate(st.Bytes, st.Duration))
}
