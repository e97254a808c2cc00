package datastore

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func FuzzReadDynamicIndex(f *testing.F) {
	valid := append(append([]byte(nil), didxMagic[:]...), make([]byte, 4088)...)
	for _, end := range []uint64{10, 20, 1 << 40} {
		valid = binary.LittleEndian.AppendUint64(valid, end)
		valid = append(valid, make([]byte, 32)...)
	}
	f.Add(valid, int64(0), uint64(15))
	f.Add(valid[:4096], int64(0), uint64(0))
	f.Add(valid[:4100], int64(3), uint64(1))
	f.Fuzz(func(t *testing.T, file []byte, sizeDelta int64, off uint64) {
		size := int64(len(file)) + sizeDelta%64
		ix, err := ReadDynamicIndex(bytes.NewReader(file), size)
		lazy, lerr := NewDynamicIndexReader(bytes.NewReader(file), size)
		if lerr != nil {
			formatTestTyped(t, lerr)
			if err == nil {
				t.Fatalf("on-demand reader refuses what ReadDynamicIndex reads: %v", lerr)
			}
		}
		if err != nil {
			formatTestTyped(t, err)
			if lerr == nil {
				if _, lerr = lazy.Load(); lerr == nil {
					t.Fatalf("on-demand reader loads what ReadDynamicIndex refuses: %v", err)
				}
				formatTestTyped(t, lerr)
			}
			return
		}
		if lazy.Size() != ix.Size() || lazy.Count() != ix.Count() {
			t.Fatal("sizes differ")
		}
		li, lok, lerr := lazy.ChunkFor(off)
		if mi, mok := ix.ChunkFor(off); lerr != nil || lok != mok || (mok && li != mi) {
			t.Fatalf("ChunkFor(%d): on demand %d %v %v, in memory %d %v", off, li, lok, lerr, mi, mok)
		}
		var c DynamicChecksum
		for i := range ix.Count() {
			_, end, d := ix.Entry(i)
			c.Add(end, d)
		}
		if sum, _ := ix.Checksum(); sum != c.Sum() {
			t.Fatal("streaming checksum differs")
		}
		if i, ok := ix.ChunkFor(off); ok && (i < 0 || i >= ix.Count()) {
			t.Fatalf("ChunkFor(%d) = %d outside [0, %d)", off, i, ix.Count())
		}
	})
}
