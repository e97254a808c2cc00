package datastore

import (
	"bytes"
	"testing"
)

func FuzzReadFixedIndex(f *testing.F) {
	f.Add(idxTestFixedFile(10, 4, 3), int64(0))
	f.Add(idxTestFixedFile(1<<63, 1, 1), int64(0))
	f.Add(idxTestFixedFile(0, 0, 0), int64(0))
	f.Add(idxTestFixedFile(FixedChunkSize*3-1, FixedChunkSize, 3), int64(-5))
	f.Fuzz(func(t *testing.T, file []byte, sizeDelta int64) {
		size := int64(len(file)) + sizeDelta%64 // sometimes lie about the size
		ix, err := ReadFixedIndex(bytes.NewReader(file), size)
		lazy, lerr := NewFixedIndexReader(bytes.NewReader(file), size)
		if lerr != nil {
			formatTestTyped(t, lerr)
			if err == nil {
				t.Fatalf("on-demand reader refuses what ReadFixedIndex reads: %v", lerr)
			}
		}
		if err != nil {
			formatTestTyped(t, err)
			if lerr == nil {
				// Only the body can be missing; reading it must say so.
				if _, lerr = lazy.Load(); lerr == nil {
					t.Fatalf("on-demand reader loads what ReadFixedIndex refuses: %v", err)
				}
				formatTestTyped(t, lerr)
			}
			return
		}
		if lazy.fidxHeader != ix.fidxHeader {
			t.Fatal("headers differ")
		}
		if sum, err := lazy.Checksum(); err != nil || sum != ix.Checksum() {
			t.Fatalf("on-demand checksum differs (%v)", err)
		}
		if ix.Count() > 0 {
			if d, err := lazy.ReadDigest(ix.Count() - 1); err != nil || d != ix.Digest(ix.Count()-1) {
				t.Fatalf("last digest differs (%v)", err)
			}
		}
		if int64(IndexHeaderSize+32*ix.Count()) != size {
			t.Fatalf("count %d does not match size %d", ix.Count(), size)
		}
		var c FixedChecksum
		for i := range ix.Count() {
			c.Add(ix.Digest(i))
			if s, e := ix.ChunkRange(i); s >= e || e > ix.Size() {
				t.Fatalf("slot %d: bad range [%d, %d)", i, s, e)
			}
		}
		if c.Sum() != ix.Checksum() {
			t.Fatal("streaming checksum differs")
		}
		for _, off := range []uint64{0, ix.Size() - 1, ix.Size(), ix.Size() / 2} {
			if i, within, ok := ix.ChunkFor(off); ok {
				if s, e := ix.ChunkRange(i); s+within != off || off >= e {
					t.Fatalf("ChunkFor(%d) = %d, %d", off, i, within)
				}
			} else if off < ix.Size() {
				t.Fatalf("ChunkFor(%d) not found below size %d", off, ix.Size())
			}
		}
	})
}
