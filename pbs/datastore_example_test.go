package pbs_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

// exampleServer starts a mock PBS whose datastore holds three daily
// snapshots of host/web01, written with package datastore.
func exampleServer() (*pbstest.Server, *pbs.Client) {
	srv, err := pbstest.Start()
	if err != nil {
		log.Fatal(err)
	}
	st, err := datastore.Open(srv.DatastorePath, datastore.WithSync(datastore.SyncNone))
	if err != nil {
		log.Fatal(err)
	}
	for day := 1; day <= 3; day++ {
		snap := datastore.Snapshot{Group: datastore.Group{Type: datastore.TypeHost, ID: "web01"},
			Time: time.Date(2026, 1, day, 10, 0, 0, 0, time.UTC)}
		w, err := st.BeginSnapshot(datastore.Namespace{}, snap, "root@pam")
		if err != nil {
			log.Fatal(err)
		}
		blob, err := datastore.EncodeBlob([]byte(fmt.Sprintf("config of day %d", day)), false)
		if err != nil {
			log.Fatal(err)
		}
		if err := w.WriteBlob("conf.blob", blob); err != nil {
			log.Fatal(err)
		}
		m := &datastore.Manifest{BackupType: "host", BackupID: "web01", BackupTime: snap.Time.Unix(),
			Files: []datastore.ManifestFile{{Filename: "conf.blob", CryptMode: datastore.CryptNone,
				Size: uint64(len(blob)), Csum: datastore.ComputeDigest(blob).String()}}}
		if err := w.Commit(m); err != nil {
			log.Fatal(err)
		}
	}
	c, err := pbs.NewClient(srv.URL, pbs.WithCredentials(srv.AdminToken), pbs.WithFingerprint(srv.Fingerprint))
	if err != nil {
		log.Fatal(err)
	}
	return srv, c
}

func ExampleDatastoreService_ListSnapshots() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	snaps, err := c.Datastore.ListSnapshots(ctx, "store1", datastore.Namespace{}, pbs.SnapshotFilter{})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range snaps {
		fmt.Println(s.Snapshot, len(s.Files), "files, owner", s.Owner)
	}
	// Output:
	// host/web01/2026-01-01T10:00:00Z 2 files, owner root@pam
	// host/web01/2026-01-02T10:00:00Z 2 files, owner root@pam
	// host/web01/2026-01-03T10:00:00Z 2 files, owner root@pam
}

func ExampleDatastoreService_Prune() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	group := datastore.Group{Type: datastore.TypeHost, ID: "web01"}
	oldest := datastore.Snapshot{Group: group, Time: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)}

	// Keep the newest snapshot, and the oldest one by protecting it.
	if err := c.Datastore.SetProtected(ctx, "store1", datastore.Namespace{}, oldest, true); err != nil {
		log.Fatal(err)
	}
	plan, err := c.Datastore.Prune(ctx, "store1", datastore.Namespace{}, group, pbs.PruneOptions{KeepLast: 1, DryRun: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, it := range plan {
		fmt.Printf("%s keep=%t protected=%t\n", it.Snapshot, it.Keep, it.Protected)
	}
	// Output:
	// host/web01/2026-01-01T10:00:00Z keep=true protected=true
	// host/web01/2026-01-02T10:00:00Z keep=false protected=false
	// host/web01/2026-01-03T10:00:00Z keep=true protected=false
}

func ExampleDatastoreService_WaitTask() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	upid, err := c.Datastore.StartVerify(ctx, "store1", pbs.VerifyOptions{
		Group: datastore.Group{Type: datastore.TypeHost, ID: "web01"},
	})
	if err != nil {
		log.Fatal(err)
	}
	st, err := c.Datastore.WaitTask(ctx, upid, nil)
	if err != nil {
		log.Fatal(err) // a *pbs.TaskError when the verification failed
	}
	fmt.Println(upid.WorkerType, upid.WorkerID, st.ExitStatus)
	// Output:
	// verify_group store1:/host/web01 OK
}

func ExampleParseUPID() {
	u, err := pbs.ParseUPID(`UPID:pbs1:000004D2:0000162E:00000003:66608A04:verify_snapshot:store1\x3a-host-web01-66608A00:admin@pbs:`)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.WorkerType)
	fmt.Println(u.WorkerID)
	fmt.Println(u.AuthID, u.StartTime.Format(time.RFC3339))
	// Output:
	// verify_snapshot
	// store1:/host/web01/66608A00
	// admin@pbs 2024-06-05T15:53:40Z
}
