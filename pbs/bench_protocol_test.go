package pbs_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// Benchmarks of the backup and reader protocols against pbstest on
// loopback, the mock sharing the CPU with the client. Run them together,
// so that the end-to-end figures can be compared with the SHA-256 one:
//
//	go test -run '^$' -bench 'SHA256|Protocol' -benchmem -benchtime 2x ./pbs
//
// Sizes: benchGiB of data per operation.
const benchGiB = 1 << 30

// BenchmarkSHA256 is the yardstick: single-core SHA-256 over 4 MiB
// buffers, the work every chunk needs at least once on each side.
func BenchmarkSHA256(b *testing.B) {
	buf := randomData(99, 4<<20)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		sha256.Sum256(buf)
	}
}

// benchText is benchGiB of text: a block of generated lines repeated
// with a changing counter, so that chunks differ but compress well.
func benchText() []byte {
	block := textData(5, 1<<20)
	out := make([]byte, 0, benchGiB)
	for i := 0; len(out) < benchGiB; i++ {
		binary.LittleEndian.PutUint64(block[:8], uint64(i))
		block[100+i%900] ^= byte(i)
		out = append(out, block...)
	}
	return out[:benchGiB]
}

// benchBackup backs data up as one stream per operation into a fresh
// server, so that every operation is a first backup.
func benchBackup(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var uploaded int64
	for b.Loop() {
		b.StopTimer()
		e := newBkEnv(b)
		s := e.start("bench")
		b.StartTimer()
		_, err := s.UploadStream(bkCtx(b), "data.raw", bytes.NewReader(data))
		require.NoError(b, err)
		res, err := s.Finish(bkCtx(b))
		require.NoError(b, err)
		uploaded = res.Stats.UploadedBytes
		b.StopTimer()
		e.settle()
		require.NoError(b, e.srv.Close())
		b.StartTimer()
	}
	b.ReportMetric(float64(uploaded)/float64(len(data)), "uploaded/raw")
}

// BenchmarkProtocolBackupRandom: first backup of 1 GiB of random data.
func BenchmarkProtocolBackupRandom(b *testing.B) {
	benchBackup(b, randomData(1, benchGiB))
}

// BenchmarkProtocolBackupCompressible: first backup of 1 GiB of text.
func BenchmarkProtocolBackupCompressible(b *testing.B) {
	benchBackup(b, benchText())
}

// BenchmarkProtocolBackupUnchanged: a second backup of the same 1 GiB,
// every chunk known from the previous snapshot.
func BenchmarkProtocolBackupUnchanged(b *testing.B) {
	data := randomData(1, benchGiB)
	e := newBkEnv(b)
	first := e.start("bench")
	_, err := first.UploadStream(bkCtx(b), "data.raw", bytes.NewReader(data))
	require.NoError(b, err)
	_, err = first.Finish(bkCtx(b))
	require.NoError(b, err)
	e.settle()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s := e.start("bench")
		res, err := s.UploadStream(bkCtx(b), "data.raw", bytes.NewReader(data))
		require.NoError(b, err)
		require.Zero(b, res.Stats.NewChunks)
		_, err = s.Finish(bkCtx(b))
		require.NoError(b, err)
		b.StopTimer()
		e.settle()
		b.StartTimer()
	}
}

// BenchmarkProtocolRestore: restore of 1 GiB of random data to
// io.Discard, every chunk fetched, decoded and verified.
func BenchmarkProtocolRestore(b *testing.B) {
	data := randomData(1, benchGiB)
	e := newBkEnv(b)
	s := e.start("bench")
	_, err := s.UploadStream(bkCtx(b), "data.raw", bytes.NewReader(data))
	require.NoError(b, err)
	res, err := s.Finish(bkCtx(b))
	require.NoError(b, err)
	e.settle()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := e.c.StartReader(bkCtx(b), readerOpts(e, res.Snapshot))
		require.NoError(b, err)
		n, err := r.RestoreArchive(bkCtx(b), "data.raw", io.Discard)
		require.NoError(b, err)
		require.EqualValues(b, len(data), n)
		require.NoError(b, r.Close())
	}
}
