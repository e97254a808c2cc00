package datastore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/proxkit/proxkit/datastore"
)

// Listing a datastore written by a real Proxmox Backup Server.
func ExampleOpen() {
	ctx := context.Background()
	s, err := datastore.Open("../../shared/artifacts/real-datastore")
	if err != nil {
		fmt.Println(err)
		return
	}
	groups, err := s.ListGroups(ctx, datastore.Namespace{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range groups {
		fmt.Printf("%s owner=%s snapshots=%d\n", g.Group(), g.Owner, g.BackupCount)
	}
	snaps, err := s.ListSnapshots(ctx, datastore.Namespace{}, datastore.TypeHost, "fixture")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, it := range snaps {
		fmt.Printf("%s files=%d size=%d\n", it.Snapshot, len(it.Files), *it.Size)
	}
	// Output:
	// host/fixture owner=test@pbs snapshots=2
	// host/fixture/2025-11-22T08:26:40Z files=4 size=10799130
	// host/fixture/2025-11-22T09:26:40Z files=2 size=10498412
}

// Writing a snapshot: chunks go to the chunk store, indexes and blobs into
// a hidden directory that Commit renames into place.
func ExampleStore_BeginSnapshot() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := datastore.Create(ctx, filepath.Join(dir, "store"), datastore.WithSync(datastore.SyncNone))
	if err != nil {
		fmt.Println(err)
		return
	}
	snap, _ := datastore.ParseSnapshot("host/web01/2024-06-05T14:24:36Z")
	w, err := s.BeginSnapshot(datastore.Namespace{}, snap, "backup@pbs")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Abort() // a no-op after Commit

	enc := datastore.NewBlobEncoder()
	image := make([]byte, 5<<20) // two fixed chunks of zeros, 4 MiB and 1 MiB
	ix, _ := w.CreateFixedIndex("disk.img.fidx", uint64(len(image)))
	for slot := 0; slot < ix.Count(); slot++ {
		piece := image[slot*datastore.FixedChunkSize : min(len(image), (slot+1)*datastore.FixedChunkSize)]
		d, _, err := s.InsertData(enc, piece, true)
		if err != nil {
			fmt.Println(err)
			return
		}
		ix.SetDigest(slot, d)
	}
	csum, _ := ix.Close()

	m := &datastore.Manifest{BackupType: "host", BackupID: "web01", BackupTime: snap.Time.Unix(),
		Files: []datastore.ManifestFile{{Filename: "disk.img.fidx", CryptMode: datastore.CryptNone,
			Size: uint64(len(image)), Csum: datastore.Digest(csum).String()}}}
	if err := w.Commit(m); err != nil {
		fmt.Println(err)
		return
	}
	last, ok, _ := s.LastFinishedSnapshot(datastore.Namespace{}, snap.Group)
	fmt.Println(last, ok)
	// Output:
	// host/web01/2024-06-05T14:24:36Z true
}

// Prune marks as PBS computes them, oldest first.
func ExampleComputePrune() {
	var list []datastore.PruneCandidate
	for _, ts := range []string{"2024-01-01T10:00:00Z", "2024-01-01T18:00:00Z", "2024-01-02T10:00:00Z", "2024-01-03T10:00:00Z"} {
		snap, _ := datastore.ParseSnapshot("vm/100/" + ts)
		list = append(list, datastore.PruneCandidate{Snapshot: snap, Finished: true})
	}
	marks, _ := datastore.ComputePrune(list, datastore.PruneOptions{KeepLast: 1, KeepDaily: 2, Location: time.UTC})
	for _, m := range marks {
		fmt.Println(m.Snapshot.TimeString(), m.Mark)
	}
	// Output:
	// 2024-01-01T10:00:00Z remove
	// 2024-01-01T18:00:00Z keep
	// 2024-01-02T10:00:00Z keep
	// 2024-01-03T10:00:00Z keep
}

// Garbage collection removes chunks no index references once they are
// older than the grace period (an injected clock stands in for waiting).
func ExampleStore_GarbageCollect() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ctx := context.Background()
	s, err := datastore.Create(ctx, filepath.Join(dir, "store"), datastore.WithSync(datastore.SyncNone), datastore.WithClock(clock))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _, _ = s.InsertData(datastore.NewBlobEncoder(), []byte("nobody references me"), true)

	rep, _ := s.GarbageCollect(ctx, datastore.GCOptions{})
	fmt.Println("right away: removed", rep.RemovedChunks, "kept", rep.DiskChunks)
	now = now.Add(datastore.GCGracePeriod + datastore.GCSafetyGap + time.Second)
	rep, _ = s.GarbageCollect(ctx, datastore.GCOptions{})
	fmt.Println("a day later: removed", rep.RemovedChunks, "kept", rep.DiskChunks)
	// Output:
	// right away: removed 0 kept 1
	// a day later: removed 1 kept 0
}
