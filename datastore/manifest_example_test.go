package datastore_test

import (
	"fmt"

	"github.com/proxkit/proxkit/datastore"
)

// Build a manifest, store it as index.json.blob and read it back.
func ExampleManifest() {
	m := &datastore.Manifest{
		BackupType: "host",
		BackupID:   "web01",
		BackupTime: 1763800000,
		Files: []datastore.ManifestFile{{
			Filename:  "root.pxar.didx",
			CryptMode: datastore.CryptNone,
			Size:      300509,
			Csum:      "62cab4f7fe82e91445dec6522ea3b1ab77ecc58ca95b374d30ffe094f6cb6bb8",
		}},
	}
	blob, err := m.EncodeBlob(datastore.NewBlobEncoder())
	if err != nil {
		panic(err)
	}
	back, err := datastore.DecodeManifestBlob(blob)
	if err != nil {
		panic(err)
	}
	snap, _ := back.Snapshot()
	f, _ := back.File("root.pxar.didx")
	fmt.Println(snap, f.Size)

	signed, _ := back.SigningBytes()
	fmt.Println(string(signed))
	// Output:
	// host/web01/2025-11-22T08:26:40Z 300509
	// {"backup-id":"web01","backup-time":1763800000,"backup-type":"host","files":[{"crypt-mode":"none","csum":"62cab4f7fe82e91445dec6522ea3b1ab77ecc58ca95b374d30ffe094f6cb6bb8","filename":"root.pxar.didx","size":300509}]}
}
