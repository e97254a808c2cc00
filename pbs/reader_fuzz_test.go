package pbs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/proxkit/proxkit/datastore"
)

// zeroSource serves, for every digest, the blob of 4 MiB of zeros: right
// for the zero chunk, wrong for everything else.
type zeroSource struct{ blob []byte }

func (z zeroSource) fetchChunk(_ context.Context, _ datastore.Digest, dst []byte) ([]byte, error) {
	return append(dst[:0], z.blob...), nil
}

// A downloaded index is external input: whatever its bytes, parsing,
// checking against a manifest entry and reading through it never panic,
// and reads fail with typed errors.
func FuzzReaderIndex(f *testing.F) {
	zero, err := datastore.EncodeBlob(make([]byte, datastore.FixedChunkSize), true)
	if err != nil {
		f.Fatal(err)
	}
	var fixed bytes.Buffer
	fw, err := datastore.NewFixedIndexWriter(seekBuffer{&fixed}, 2*datastore.FixedChunkSize+5, datastore.FixedChunkSize)
	if err != nil {
		f.Fatal(err)
	}
	for i := range 3 {
		_ = fw.SetDigest(i, zeroChunkDigest())
	}
	if _, err := fw.Close(); err != nil {
		f.Fatal(err)
	}
	f.Add(fixed.Bytes(), true, uint64(0))
	f.Add(fixed.Bytes(), true, uint64(4<<20+3))
	var dyn bytes.Buffer
	dw, err := datastore.NewDynamicIndexWriter(&seekWriter{b: &dyn})
	if err != nil {
		f.Fatal(err)
	}
	_ = dw.Append(datastore.FixedChunkSize, zeroChunkDigest())
	_ = dw.Append(datastore.FixedChunkSize+10, datastore.Digest{1})
	if _, err := dw.Close(); err != nil {
		f.Fatal(err)
	}
	f.Add(dyn.Bytes(), false, uint64(5))
	f.Add(dyn.Bytes()[:4100], false, uint64(0))
	f.Add([]byte("not an index"), false, uint64(0))

	src := zeroSource{blob: zero}
	f.Fuzz(func(t *testing.T, raw []byte, isFixed bool, off uint64) {
		typ := datastore.ArchiveDynamic
		if isFixed {
			typ = datastore.ArchiveFixed
		}
		ix, err := parseIndex("x", typ, raw)
		if err != nil {
			if !errors.Is(err, ErrIntegrity) {
				t.Fatalf("parse error %v is not an integrity error", err)
			}
			return
		}
		if ix.Count() > 64 {
			return // keep executions fast; large indexes are no different
		}
		sum, _ := ix.checksum()
		_ = checkIndex(datastore.ManifestFile{Filename: "x", Size: ix.Size(), Csum: sum.String()}, ix)
		_ = checkIndex(datastore.ManifestFile{Filename: "x", Size: 1, Csum: "zz"}, ix)
		a := &Archive{name: "x", typ: typ, ix: ix, chunks: newChunkFetcher(src, 8<<20, 2), ctx: context.Background(), prefetch: 2}
		p := make([]byte, 100)
		if _, err := a.ReadAt(p, int64(off%(ix.Size()+10))); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, ErrIntegrity) {
			t.Fatalf("read error %v is neither EOF nor an integrity error", err)
		}
	})
}

// seekWriter is an io.WriteSeeker over a bytes.Buffer.
type seekWriter struct {
	b   *bytes.Buffer
	pos int64
}

func (w *seekWriter) Write(p []byte) (int, error) {
	if need := int(w.pos) + len(p); need > w.b.Len() {
		w.b.Write(make([]byte, need-w.b.Len()))
	}
	copy(w.b.Bytes()[w.pos:], p)
	w.pos += int64(len(p))
	return len(p), nil
}

func (w *seekWriter) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		w.pos = off
	case io.SeekCurrent:
		w.pos += off
	case io.SeekEnd:
		w.pos = int64(w.b.Len()) + off
	}
	return w.pos, nil
}
