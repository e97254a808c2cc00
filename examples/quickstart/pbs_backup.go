package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/examples/internal/cli"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

// pbsBackupStory is issue 5's part: with a token of the backup user from
// the access story, back up a stream and an image, back them up again
// after small changes (only the changed chunks travel), restore and
// compare, and let the server verify.
func pbsBackupStory(ctx context.Context, n *narrator, srv *pbstest.Server, dir string) error {
	admin, err := pbs.NewClient(srv.URL, pbs.WithCredentials(srv.AdminToken), pbs.WithFingerprint(srv.Fingerprint))
	if err != nil {
		return err
	}
	n.section("Backups to the PBS mock")

	n.stepf("A new token backup@pbs!nightly with DatastoreBackup on /datastore/%s (its user has it already)", srv.Datastore)
	tok, err := admin.Access.CreateToken(ctx, auth.MustParseAuthid("backup@pbs!nightly"), pbs.TokenOptions{})
	if err != nil {
		return err
	}
	if err := admin.Access.GrantACL(ctx, pbs.ACLUpdate{Path: "/datastore/" + srv.Datastore, Role: "DatastoreBackup", AuthID: tok.ID}); err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "nightly.json")
	if _, err := writeConfig(srv, tok, cfgPath); err != nil {
		return err
	}
	// From here on, only what a backup job on another machine has: the file.
	cfg, err := auth.ReadPBSConfig(cfgPath)
	if err != nil {
		return err
	}
	client, err := pbs.NewClientFromConfig(cfg)
	if err != nil {
		return err
	}
	n.sayf("-> client from %s for %s", filepath.Base(cfgPath), cfg)

	dump, img := dumpData(6<<20), imageData(4)
	first := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)

	n.stepf("Back up a generated database dump (%s) and a disk image (%s, 8 MiB of it zeros)", cli.Bytes(int64(len(dump))), cli.Bytes(int64(len(img))))
	snap1, err := backup(ctx, n, client, cfg.Datastore, first, dump, img)
	if err != nil {
		return err
	}

	dump2, img2 := changeDump(dump), changeImage(img)
	n.stepf("Back up again after a one-line change of the dump and a 7-byte change of the image")
	snap2, err := backup(ctx, n, client, cfg.Datastore, first.Add(time.Second), dump2, img2)
	if err != nil {
		return err
	}
	n.sayf("Only the chunks around the changes were uploaded; the rest is known from %s.", snap1)

	n.stepf("Restore both archives of %s, every chunk checked against its digest", snap2)
	r, err := client.StartReader(ctx, pbs.ReaderOptions{Datastore: cfg.Datastore, Snapshot: snap2})
	if err != nil {
		return err
	}
	defer r.Close()
	for _, a := range []struct {
		name string
		want []byte
	}{{"db.sql", dump2}, {"disk.img", img2}} {
		var got bytes.Buffer
		start := time.Now()
		if _, err := r.RestoreArchive(ctx, a.name, &got); err != nil {
			return err
		}
		if !bytes.Equal(got.Bytes(), a.want) {
			return fmt.Errorf("restored %s differs from what was backed up", a.name)
		}
		sum := sha256.Sum256(got.Bytes())
		n.sayf("%s: %s restored in %s, identical to the source (sha256 %x…)", a.name, cli.Bytes(int64(got.Len())), time.Since(start).Round(time.Millisecond), sum[:8])
	}
	if err := r.Close(); err != nil {
		return err
	}

	n.stepf("Verify the group on the server (POST /admin/datastore/%s/verify, then follow the task)", cfg.Datastore)
	upid, err := client.Datastore.StartVerify(ctx, cfg.Datastore, pbs.VerifyOptions{Group: snap1.Group})
	if err != nil {
		return err
	}
	status, err := client.Datastore.WaitTask(ctx, upid, nil)
	if err != nil {
		return err
	}
	snaps, err := client.Datastore.ListSnapshots(ctx, cfg.Datastore, datastore.Namespace{}, pbs.SnapshotFilter{Type: snap1.Type, ID: snap1.ID})
	if err != nil {
		return err
	}
	for _, s := range snaps {
		state := "not verified"
		if s.Verification != nil {
			state = string(s.Verification.State)
		}
		n.sayf("%s: %s", s.Snapshot, state)
	}
	n.sayf("task %s: %s", upid.WorkerType, status.ExitStatus)
	return nil
}

// backup stores dump and img as one snapshot of host/quickstart at t and
// prints what was uploaded.
func backup(ctx context.Context, n *narrator, c *pbs.Client, store string, t time.Time, dump, img []byte) (datastore.Snapshot, error) {
	s, err := c.StartBackup(ctx, pbs.BackupOptions{Datastore: store, Type: datastore.TypeHost, ID: "quickstart", Time: t})
	if err != nil {
		return datastore.Snapshot{}, err
	}
	stream, err := s.UploadStream(ctx, "db.sql", bytes.NewReader(dump))
	if err != nil {
		return datastore.Snapshot{}, err
	}
	image, err := s.UploadImage(ctx, "disk.img", bytes.NewReader(img), int64(len(img)))
	if err != nil {
		return datastore.Snapshot{}, err
	}
	res, err := s.Finish(ctx)
	if err != nil {
		return datastore.Snapshot{}, err
	}
	n.sayf("%s", cli.Summary(stream.File.Filename, stream.Stats))
	n.sayf("%s", cli.Summary(image.File.Filename, image.Stats))
	n.sayf("-> snapshot %s", res.Snapshot)
	return res.Snapshot, nil
}
