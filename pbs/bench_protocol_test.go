// The CPU clock of these benchmarks reads getrusage(2).

//go:build unix

package pbs_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/pbs/pbstest"
)

// Benchmarks of the backup and reader protocols against pbstest on
// loopback, the mock sharing the CPU with the client. Run them together,
// so that the end-to-end figures can be compared with the SHA-256 one:
//
//	go test -run '^$' -bench 'SHA256|Protocol' -benchmem -benchtime 2x ./pbs
//
// Sizes: benchGiB of data per operation. The mock keeps its datastore in
// /dev/shm when there is one, so that the figures measure the protocol
// (client and server) rather than the machine's disk.
//
// On a freshly booted virtual machine, memory that no process has touched
// yet is slow to touch the first time (here writing to /dev/shm took 3.2
// CPU seconds per GiB instead of 0.35 until 20 GiB had been written once),
// which halves the first figures. Touch it first, for instance with
// dd if=/dev/zero of=/dev/shm/warm bs=4M count=5000; rm /dev/shm/warm.
const benchGiB = 1 << 30

// benchEnv starts a mock server whose datastore lives in memory if it can;
// done stops it and removes the datastore.
func benchEnv(b *testing.B) (e *bkEnv, done func()) {
	dir := b.TempDir()
	if shm, err := os.MkdirTemp("/dev/shm", "pbsbench"); err == nil {
		dir = shm
	}
	e = newBkEnv(b, pbstest.WithStateDir(dir))
	return e, func() {
		e.settle()
		require.NoError(b, e.srv.Close())
		require.NoError(b, os.RemoveAll(dir))
	}
}

// cpuClock measures the CPU time of the process (client and mock
// server), which other load on the machine does not inflate as it does
// the wall time: reported as CPU seconds per GiB.
type cpuClock struct {
	start time.Duration
	total time.Duration
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (c *cpuClock) resume() { c.start = processCPU() }
func (c *cpuClock) pause()  { c.total += processCPU() - c.start }

func (c *cpuClock) report(b *testing.B, bytes int64) {
	if bytes > 0 && b.N > 0 {
		b.ReportMetric(c.total.Seconds()/float64(b.N)/(float64(bytes)/benchGiB), "cpu-s/GiB")
	}
}

// shaRate measures single-core SHA-256 over 4 MiB buffers in bytes per
// second, the yardstick, right where a benchmark runs: the machine's speed
// drifts with other load, so a ratio is only fair against a rate taken at
// the same time.
func shaRate() float64 {
	buf := make([]byte, 4<<20)
	const n = 32
	start := time.Now()
	for range n {
		sha256.Sum256(buf)
	}
	return n * float64(len(buf)) / time.Since(start).Seconds()
}

// sha256Ratio is a benchmark's throughput over the best SHA-256 rate seen
// just before (before) and after it: the "x-sha256" figure of the targets.
type sha256Ratio struct{ before float64 }

func startRatio() sha256Ratio { return sha256Ratio{before: shaRate()} }

func (r sha256Ratio) report(b *testing.B, bytes int64) {
	rate := max(r.before, shaRate())
	if el := b.Elapsed().Seconds(); el > 0 && b.N > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/el/rate, "x-sha256")
	}
}

// BenchmarkSHA256 is the yardstick: single-core SHA-256 over 4 MiB
// buffers, the work every chunk needs at least once on each side.
func BenchmarkSHA256(b *testing.B) {
	// 64 buffers per operation, so that the figure is steady even when run
	// with -benchtime 1x alongside the end-to-end benchmarks.
	buf := randomData(99, 4<<20)
	const perOp = 64
	b.SetBytes(perOp * int64(len(buf)))
	b.ReportAllocs()
	var cpu cpuClock
	cpu.resume()
	for b.Loop() {
		for range perOp {
			sha256.Sum256(buf)
		}
	}
	cpu.pause()
	cpu.report(b, perOp*int64(len(buf)))
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

// benchBackup backs data up as one stream (or, with image, one fixed
// image) per operation into a fresh server, so that every operation is a
// first backup.
func benchBackup(b *testing.B, data []byte, image bool) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var uploaded int64
	var cpu cpuClock
	ratio := startRatio()
	for b.Loop() {
		b.StopTimer()
		e, done := benchEnv(b)
		s := e.start("bench")
		b.StartTimer()
		cpu.resume()
		var err error
		if image {
			_, err = s.UploadImage(bkCtx(b), "data.img", bytes.NewReader(data), int64(len(data)))
		} else {
			_, err = s.UploadStream(bkCtx(b), "data.raw", bytes.NewReader(data))
		}
		require.NoError(b, err)
		res, err := s.Finish(bkCtx(b))
		require.NoError(b, err)
		cpu.pause()
		uploaded = res.Stats.UploadedBytes
		b.StopTimer()
		done()
		b.StartTimer()
	}
	b.ReportMetric(float64(uploaded)/float64(len(data)), "uploaded/raw")
	cpu.report(b, int64(len(data)))
	ratio.report(b, int64(len(data)))
}

// BenchmarkProtocolBackupRandom: first backup of 1 GiB of random data as
// a stream (content-defined chunks, as a pxar archive or a dump).
func BenchmarkProtocolBackupRandom(b *testing.B) {
	benchBackup(b, randomData(1, benchGiB), false)
}

// BenchmarkProtocolBackupRandomImage: first backup of 1 GiB of random
// data as an image (fixed 4 MiB chunks, as a VM disk).
func BenchmarkProtocolBackupRandomImage(b *testing.B) {
	benchBackup(b, randomData(1, benchGiB), true)
}

// BenchmarkProtocolBackupCompressible: first backup of 1 GiB of text.
func BenchmarkProtocolBackupCompressible(b *testing.B) {
	benchBackup(b, benchText(), false)
}

// BenchmarkProtocolBackupUnchanged: a second backup of the same 1 GiB,
// every chunk known from the previous snapshot (and recognised along its
// index: hashed, not scanned; see upload_stream_known.go).
func BenchmarkProtocolBackupUnchanged(b *testing.B) {
	data := randomData(1, benchGiB)
	e, done := benchEnv(b)
	defer done()
	first := e.start("bench")
	_, err := first.UploadStream(bkCtx(b), "data.raw", bytes.NewReader(data))
	require.NoError(b, err)
	_, err = first.Finish(bkCtx(b))
	require.NoError(b, err)
	e.settle()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var cpu cpuClock
	ratio := startRatio()
	b.ResetTimer()
	for b.Loop() {
		cpu.resume()
		s := e.start("bench")
		res, err := s.UploadStream(bkCtx(b), "data.raw", bytes.NewReader(data))
		require.NoError(b, err)
		require.Zero(b, res.Stats.NewChunks)
		_, err = s.Finish(bkCtx(b))
		require.NoError(b, err)
		cpu.pause()
		b.StopTimer()
		e.settle()
		b.StartTimer()
	}
	cpu.report(b, int64(len(data)))
	ratio.report(b, int64(len(data)))
}

// BenchmarkProtocolRestore: restore of 1 GiB of random data to
// io.Discard, every chunk fetched, decoded and verified.
func BenchmarkProtocolRestore(b *testing.B) {
	data := randomData(1, benchGiB)
	e, done := benchEnv(b)
	defer done()
	s := e.start("bench")
	_, err := s.UploadStream(bkCtx(b), "data.raw", bytes.NewReader(data))
	require.NoError(b, err)
	res, err := s.Finish(bkCtx(b))
	require.NoError(b, err)
	e.settle()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var cpu cpuClock
	ratio := startRatio()
	b.ResetTimer()
	cpu.resume()
	for b.Loop() {
		r, err := e.c.StartReader(bkCtx(b), readerOpts(e, res.Snapshot))
		require.NoError(b, err)
		n, err := r.RestoreArchive(bkCtx(b), "data.raw", io.Discard)
		require.NoError(b, err)
		require.EqualValues(b, len(data), n)
		require.NoError(b, r.Close())
	}
	cpu.pause()
	cpu.report(b, int64(len(data)))
	ratio.report(b, int64(len(data)))
}
