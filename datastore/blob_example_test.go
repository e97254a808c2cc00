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

// A receiver checks an uncompressed chunk while it arrives: each piece is
// summed right after it is read, and the sums are compared at the end.
func ExamplePayloadSum() {
	data := bytes.Repeat([]byte("incoming chunk "), 20000)
	blob, err := datastore.EncodeBlob(data, false)
	if err != nil {
		panic(err)
	}
	want := datastore.ComputeDigest(data)

	var sum datastore.PayloadSum
	body := bytes.NewReader(blob[datastore.BlobHeaderSize:]) // the header was read and parsed first
	piece := make([]byte, 64<<10)
	for {
		n, err := body.Read(piece)
		sum.Write(piece[:n])
		if err != nil {
			break
		}
	}
	digest, crc := sum.Sum()
	h, _ := datastore.ParseBlobHeader(blob)
	fmt.Println("digest matches:", digest == want)
	fmt.Println("CRC matches:", crc == h.CRC)
	// Output:
	// digest matches: true
	// CRC matches: true
}
