package datastore_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/proxkit/proxkit/datastore"
)

// Write a fixed index for a 10 MiB image (three 4 MiB slots, the last one
// short) and look an offset up in it.
func ExampleNewFixedIndexWriter() {
	dir, _ := os.MkdirTemp("", "fidx")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "disk.img.fidx")
	f, _ := os.Create(path)

	const size = 10 << 20
	w, err := datastore.NewFixedIndexWriter(f, size, datastore.FixedChunkSize)
	if err != nil {
		panic(err)
	}
	for slot := range w.Count() { // digests may arrive in any order
		chunk := bytes.Repeat([]byte{byte(slot)}, datastore.FixedChunkSize)
		_ = w.SetDigest(slot, datastore.ComputeDigest(chunk))
	}
	csum, _ := w.Close()
	f.Close()

	ix, err := datastore.OpenFixedIndex(path)
	if err != nil {
		panic(err)
	}
	fmt.Println("chunks:", ix.Count(), "checksum matches:", ix.Checksum() == csum)
	slot, within, _ := ix.ChunkFor(9 << 20)
	start, end := ix.ChunkRange(slot)
	fmt.Printf("offset 9 MiB: slot %d at %d, slot covers [%d, %d)\n", slot, within, start, end)
	// Output:
	// chunks: 3 checksum matches: true
	// offset 9 MiB: slot 2 at 1048576, slot covers [8388608, 10485760)
}

// Dynamic indexes list chunks of varying sizes by their end offsets.
func ExampleNewDynamicIndexWriter() {
	var buf seekBuffer
	w, _ := datastore.NewDynamicIndexWriter(&buf)
	var end uint64
	for _, chunk := range []string{"first chunk", "second", "third and last"} {
		end += uint64(len(chunk))
		_ = w.Append(end, datastore.ComputeDigest([]byte(chunk)))
	}
	_, _ = w.Close()

	ix, _ := datastore.ReadDynamicIndex(bytes.NewReader(buf.b), int64(len(buf.b)))
	i, _ := ix.ChunkFor(12)
	start, stop, _ := ix.Entry(i)
	fmt.Printf("%d chunks, %d bytes; offset 12 is in chunk %d [%d, %d)\n", ix.Count(), ix.Size(), i, start, stop)
	// Output:
	// 3 chunks, 31 bytes; offset 12 is in chunk 1 [11, 17)
}

// seekBuffer is a minimal in-memory io.WriteSeeker.
type seekBuffer struct {
	b   []byte
	pos int
}

func (s *seekBuffer) Write(p []byte) (int, error) {
	if need := s.pos + len(p); need > len(s.b) {
		s.b = append(s.b, make([]byte, need-len(s.b))...)
	}
	n := copy(s.b[s.pos:], p)
	s.pos += n
	return n, nil
}

func (s *seekBuffer) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case 0:
		s.pos = int(off)
	case 1:
		s.pos += int(off)
	case 2:
		s.pos = len(s.b) + int(off)
	}
	return int64(s.pos), nil
}
