package datastore_test

import (
	"fmt"

	"github.com/proxkit/proxkit/datastore"
)

// Where a snapshot of a namespace lives in the datastore directory.
func ExampleParseSnapshot() {
	ns, _ := datastore.ParseNamespace("prod/web")
	snap, err := datastore.ParseSnapshot("host/web01/2026-11-22T10:00:00Z")
	if err != nil {
		panic(err)
	}
	fmt.Println(ns.DirPath() + "/" + snap.DirPath())
	fmt.Println(ns.ACLPath("store1"))
	fmt.Println(snap.Time.Unix())

	_, err = datastore.ParseNamespace("a/../b")
	fmt.Println(err)
	// Output:
	// ns/prod/ns/web/host/web01/2026-11-22T10:00:00Z
	// /datastore/store1/prod/web
	// 1795341600
	// datastore: namespace: invalid name: invalid component ".."
}

func ExampleParseArchiveName() {
	for _, name := range []string{"disk.img.fidx", "root.pxar.didx", "qemu-server.conf.blob", "notes.txt"} {
		t, err := datastore.ParseArchiveName(name)
		fmt.Println(name, t, err != nil)
	}
	fmt.Println(datastore.ServerArchiveName("drive-scsi0.img", datastore.ArchiveFixed))
	// Output:
	// disk.img.fidx fixed false
	// root.pxar.didx dynamic false
	// qemu-server.conf.blob blob false
	// notes.txt ArchiveType(0) true
	// drive-scsi0.img.fidx
}
