package pbstest

import (
	"encoding/binary"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
)

// benchChunks returns a 4 MiB chunk generator: each call yields new data
// (a counter in the first bytes of random data), its digest and its
// blob.
func benchChunks(b *testing.B, compress bool) func(i int) (datastore.Digest, []byte) {
	base := randomBytes(60, datastore.FixedChunkSize)
	enc := datastore.NewBlobEncoder()
	var mu sync.Mutex
	return func(i int) (datastore.Digest, []byte) {
		mu.Lock()
		defer mu.Unlock()
		binary.LittleEndian.PutUint64(base, uint64(i))
		blob, err := enc.Encode(nil, base, compress)
		require.NoError(b, err)
		return datastore.ComputeDigest(base), blob
	}
}

// BenchmarkChunkUpload measures what the server does per uploaded 4 MiB
// chunk (read, CRC, decode and hash, atomic store) over one session, with
// one or eight uploads in flight. The client side's encoding and hashing
// run in the same process and are included.
func BenchmarkChunkUpload(b *testing.B) {
	for _, tc := range []struct {
		name     string
		compress bool
		inflight int
	}{{"uncompressed/inflight=1", false, 1}, {"zstd/inflight=1", true, 1}, {"uncompressed/inflight=8", false, 8}} {
		b.Run(tc.name, func(b *testing.B) {
			srv := NewServer(b)
			c := startBackupSession(b, srv, "host", "bench", protoTime)
			wid := c.createIndex("dynamic", "a.didx", nil)
			next := benchChunks(b, tc.compress)
			b.SetBytes(datastore.FixedChunkSize)
			b.ReportAllocs()
			var wg sync.WaitGroup
			slots := make(chan struct{}, tc.inflight)
			b.ResetTimer()
			for i := range b.N {
				d, blob := next(i)
				slots <- struct{}{}
				wg.Go(func() {
					defer func() { <-slots }()
					status, body, err := c.try("POST", "/dynamic_chunk", chunkQuery(wid, d, datastore.FixedChunkSize, blob), "application/octet-stream", blob)
					if err != nil || status != http.StatusOK {
						b.Errorf("upload: %v %d %s", err, status, body)
					}
				})
			}
			wg.Wait()
		})
	}
}

// BenchmarkReaderChunkDownload measures chunk downloads of a reader
// session (the client decodes and verifies each chunk).
func BenchmarkReaderChunkDownload(b *testing.B) {
	srv := NewServer(b)
	chunks := make([][]byte, 16)
	for i := range chunks {
		chunks[i] = randomBytes(byte(70+i), datastore.FixedChunkSize)
	}
	w := startBackupSession(b, srv, "host", "bench", protoTime)
	f := w.uploadDynamic("a.didx", chunks, nil)
	w.finishBackup("host", "bench", protoTime, f)
	waitSessions(b, srv)

	r := startReaderSession(b, srv, "host", "bench", protoTime)
	r.raw("/download", url.Values{"file-name": {"a.didx"}})
	dec := datastore.NewBlobDecoder()
	var buf []byte
	b.SetBytes(datastore.FixedChunkSize)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		d := datastore.ComputeDigest(chunks[i%len(chunks)])
		var err error
		buf, err = dec.DecodeChunk(buf, r.raw("/chunk", url.Values{"digest": {d.String()}}), d, datastore.FixedChunkSize)
		if err != nil {
			b.Fatal(err)
		}
	}
}
