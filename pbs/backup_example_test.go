package pbs_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

// backupExampleServer starts the mock PBS with a client for the examples.
func backupExampleServer() (*pbstest.Server, *pbs.Client) {
	srv, err := pbstest.Start()
	if err != nil {
		log.Fatal(err)
	}
	c, err := pbs.NewClient(srv.URL, pbs.WithCredentials(srv.AdminToken), pbs.WithFingerprint(srv.Fingerprint))
	if err != nil {
		log.Fatal(err)
	}
	return srv, c
}

// A backup: a stream, an image and a config blob, then Finish, which
// uploads the manifest and makes the snapshot visible.
func ExampleClient_StartBackup() {
	srv, c := backupExampleServer()
	defer srv.Close()
	ctx := context.Background()

	s, err := c.StartBackup(ctx, pbs.BackupOptions{
		Datastore: srv.Datastore,
		Type:      datastore.TypeHost,
		ID:        "web01",
		Time:      time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Abort() // a no-op once Finish succeeded

	dump := strings.NewReader(strings.Repeat("INSERT INTO t VALUES (1);\n", 100000))
	if _, err := s.UploadStream(ctx, "db.sql", dump); err != nil {
		log.Fatal(err)
	}
	disk := make([]byte, 8<<20) // an image of zeros: one zero chunk, appended twice
	if _, err := s.UploadImage(ctx, "disk.img", bytes.NewReader(disk), int64(len(disk))); err != nil {
		log.Fatal(err)
	}
	if _, err := s.UploadBlob(ctx, "app.conf", []byte("port = 80\n")); err != nil {
		log.Fatal(err)
	}
	res, err := s.Finish(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Snapshot)
	for _, f := range res.Manifest.Files {
		fmt.Println(f.Filename)
	}
	fmt.Printf("chunks: %d new, %d reused\n", res.Stats.NewChunks, res.Stats.ReusedChunks)
	// Output:
	// host/web01/2026-11-22T10:00:00Z
	// db.sql.didx
	// disk.img.fidx
	// app.conf.blob
	// chunks: 2 new, 1 reused
}

// A restore: the reader session downloads the manifest, then each
// archive's index and its chunks, verifying every one.
func ExampleClient_StartReader() {
	srv, c := backupExampleServer()
	defer srv.Close()
	ctx := context.Background()

	s, err := c.StartBackup(ctx, pbs.BackupOptions{Datastore: srv.Datastore, Type: datastore.TypeHost, ID: "web01"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := s.UploadStream(ctx, "notes.txt", strings.NewReader("hello, backup\n")); err != nil {
		log.Fatal(err)
	}
	res, err := s.Finish(ctx)
	if err != nil {
		log.Fatal(err)
	}

	r, err := c.StartReader(ctx, pbs.ReaderOptions{Datastore: srv.Datastore, Snapshot: res.Snapshot})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	var out bytes.Buffer
	if _, err := r.RestoreArchive(ctx, "notes.txt", &out); err != nil {
		log.Fatal(err) // an *IntegrityError names a chunk that does not verify
	}
	fmt.Print(out.String())
	// Output:
	// hello, backup
}

// The low level: chunks cut by the caller, appended as data or, for
// chunks the server has, by digest.
func ExampleBackupSession_CreateDynamicArchive() {
	srv, c := backupExampleServer()
	defer srv.Close()
	ctx := context.Background()

	s, err := c.StartBackup(ctx, pbs.BackupOptions{Datastore: srv.Datastore, Type: datastore.TypeCT, ID: "101"})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Abort()
	w, err := s.CreateDynamicArchive(ctx, "records.bin")
	if err != nil {
		log.Fatal(err)
	}
	record := []byte("a record of fixed layout")
	for range 3 {
		if err := w.AppendData(ctx, record); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.AppendKnown(ctx, datastore.ComputeDigest(record)); err != nil {
		log.Fatal(err)
	}
	up, err := w.Close(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(up.File.Filename, up.File.Size, up.Stats.NewChunks, up.Stats.ReusedChunks)
	if _, err := s.Finish(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// records.bin.didx 96 1 3
}
