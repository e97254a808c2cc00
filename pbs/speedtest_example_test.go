package pbs_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
)

// The "TLS (maximal backup upload speed)" figure of proxmox-backup-client
// benchmark: a benchmark session that posts 4 MiB buffers for a while and
// then ends without leaving a snapshot.
func ExampleClient_UploadSpeedTest() {
	srv, c := backupExampleServer()
	defer srv.Close()
	ctx := context.Background()

	res, err := c.UploadSpeedTest(ctx, srv.Datastore, 200*time.Millisecond) // 0: the usual 5s
	if err != nil {
		log.Fatal(err)
	}
	// A program prints the figure, e.g. with
	// fmt.Printf("TLS speed: %.2f MB/s\n", res.BytesPerSecond()/1e6);
	// here only what does not depend on the machine.
	fmt.Println("measured:", res.BytesPerSecond() > 0, res.Requests >= pbs.SpeedTestInFlight)

	snaps, err := c.Datastore.ListSnapshots(ctx, srv.Datastore, datastore.Namespace{}, pbs.SnapshotFilter{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("snapshots:", len(snaps))
	// Output:
	// measured: true true
	// snapshots: 0
}
