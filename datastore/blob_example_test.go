package datastore_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/proxkit/proxkit/datastore"
)

// A chunk is stored as a blob named by the digest of its plain data.
func ExampleBlobEncoder() {
	enc, dec := datastore.NewBlobEncoder(), datastore.NewBlobDecoder()
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB, compresses well
	digest := datastore.ComputeDigest(data)

	blob, err := enc.Encode(nil, data, true)
	if err != nil {
		panic(err)
	}
	h, _ := datastore.ParseBlobHeader(blob)
	fmt.Println("kind:", h.Kind, "smaller:", len(blob) < len(data))

	plain, err := dec.DecodeChunk(nil, blob, digest, len(data))
	fmt.Println("round trip:", err == nil && bytes.Equal(plain, data))

	blob[len(blob)-1] ^= 1 // a bit flips on disk
	_, err = dec.DecodeChunk(nil, blob, digest, len(data))
	fmt.Println("corruption detected:", errors.Is(err, datastore.ErrChecksum))
	// Output:
	// kind: compressed smaller: true
	// round trip: true
	// corruption detected: true
}
