package datastore

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkInsertChunk measures inserting new chunks (temporary file,
// write, rename) of the two typical sizes: 4 MiB (fixed indexes) and
// 64 KiB (small dynamic chunks), and re-inserting an existing chunk (the
// duplicate path: stat and touch). Encoding is not timed: every insert
// stores the same incompressible blob under a new digest.
func BenchmarkInsertChunk(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"4MiB", 4 << 20}, {"64KiB", 64 << 10}} {
		blob, err := NewBlobEncoder().Encode(nil, storePRNG(1, size.n), false)
		require.NoError(b, err)
		for _, sync := range []SyncLevel{SyncNone, SyncFile} {
			b.Run(size.name+"/sync="+sync.String(), func(b *testing.B) {
				s := storeNewTest(b, WithSync(sync))
				b.SetBytes(int64(len(blob)))
				b.ReportAllocs()
				start := time.Now()
				var d Digest
				for i := 0; b.Loop(); i++ {
					binary.LittleEndian.PutUint64(d[:], uint64(i)*0x9E3779B97F4A7C15)
					if _, err := s.InsertChunk(d, blob); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "chunks/s")
			})
		}
		b.Run(size.name+"/duplicate", func(b *testing.B) {
			s := storeNewTest(b, WithSync(SyncNone))
			d := Digest{1}
			_, err := s.InsertChunk(d, blob)
			require.NoError(b, err)
			b.SetBytes(int64(len(blob)))
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if _, err := s.InsertChunk(d, blob); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "chunks/s")
		})
	}
}

// gcBenchChunks is the chunk count of the GC benchmark.
const gcBenchChunks = 100_000

// gcBenchStore fills a store with gcBenchChunks tiny chunks and one
// snapshot whose dynamic index references every other one. It is slow
// (100k file creations) and runs outside the timer.
func gcBenchStore(b *testing.B, clock *storeFakeClock) *Store {
	b.Helper()
	s, err := Create(context.Background(), filepath.Join(b.TempDir(), "store"), WithSync(SyncNone), WithClock(clock.now))
	require.NoError(b, err)
	digests := make([]Digest, gcBenchChunks)
	var wg sync.WaitGroup
	const workers = 4
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			enc := NewBlobEncoder()
			var data [8]byte
			for i := w; i < gcBenchChunks; i += workers {
				binary.LittleEndian.PutUint64(data[:], uint64(i))
				d, _, err := s.InsertData(enc, data[:], false)
				if err != nil {
					b.Error(err)
					return
				}
				digests[i] = d
			}
		}()
	}
	wg.Wait()
	w, err := s.BeginSnapshot(Namespace{}, storeSnap(b, "host/bench/2030-01-01T00:00:00Z"), "root@pam")
	require.NoError(b, err)
	ix, err := w.CreateDynamicIndex("half.didx")
	require.NoError(b, err)
	for i := 0; i < gcBenchChunks; i += 2 {
		require.NoError(b, ix.Append(uint64(i/2+1)*8, digests[i]))
	}
	csum, err := ix.Close()
	require.NoError(b, err)
	m := &Manifest{BackupType: "host", BackupID: "bench", BackupTime: 1893456000,
		Files: []ManifestFile{{Filename: "half.didx", CryptMode: CryptNone, Size: gcBenchChunks / 2 * 8, Csum: Digest(csum).String()}}}
	require.NoError(b, w.Commit(m))
	return s
}

// BenchmarkGC100k times garbage collection (mark and sweep) of a store
// holding 100k chunks, half of them referenced by an index. "keep" runs
// with everything inside the grace period (mark 50k, stat 100k, delete
// nothing); "sweep" deletes the 50k unreferenced chunks (one store per
// iteration, built outside the timer).
func BenchmarkGC100k(b *testing.B) {
	b.Run("keep", func(b *testing.B) {
		clock := &storeFakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
		s := gcBenchStore(b, clock)
		b.ReportAllocs()
		for b.Loop() {
			rep, err := s.GarbageCollect(context.Background(), GCOptions{NoStatusFile: true})
			if err != nil {
				b.Fatal(err)
			}
			if rep.RemovedChunks != 0 || rep.DiskChunks != gcBenchChunks {
				b.Fatalf("unexpected report %+v", rep.GCStatus)
			}
		}
		b.ReportMetric(float64(gcBenchChunks)*float64(b.N)/b.Elapsed().Seconds(), "chunks/s")
	})
	b.Run("sweep", func(b *testing.B) {
		b.ReportAllocs()
		var timed time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			clock := &storeFakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
			s := gcBenchStore(b, clock)
			clock.advance(GCGracePeriod + GCSafetyGap + time.Minute)
			b.StartTimer()
			start := time.Now()
			rep, err := s.GarbageCollect(context.Background(), GCOptions{NoStatusFile: true})
			timed += time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			if rep.RemovedChunks != gcBenchChunks/2 {
				b.Fatalf("unexpected report %+v", rep.GCStatus)
			}
		}
		b.ReportMetric(float64(gcBenchChunks)*float64(b.N)/timed.Seconds(), "chunks/s")
	})
}
