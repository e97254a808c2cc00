package chunker

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"
)

// benchInput is 256 MiB of the vectors' PRNG stream, generated once per
// process: the benchmarks' workload.
var benchInput = sync.OnceValue(func() []byte { return prngBytes(42, 256<<20) })

const benchAvg = 4 << 20

func benchScan(b *testing.B, scan func([]byte) int, reset func()) {
	data := benchInput()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	chunks := 0
	for b.Loop() {
		reset()
		for p := data; len(p) > 0; chunks++ {
			k := scan(p)
			if k == 0 {
				break
			}
			p = p[k:]
		}
	}
	b.ReportMetric(float64(chunks)/float64(b.N), "chunks/op")
}

// BenchmarkScan is the boundary finder alone, fed the whole input.
func BenchmarkScan(b *testing.B) {
	c := newChunker(benchAvg)
	benchScan(b, c.Scan, c.Reset)
}

// BenchmarkScanBaseline is the spec's pseudocode, byte at a time: the
// yardstick for BenchmarkScan.
func BenchmarkScanBaseline(b *testing.B) {
	c := newBaseline(benchAvg)
	benchScan(b, c.scan, c.reset)
}

// BenchmarkStream reads from an io.Reader; after the first round the stream
// reuses its buffer, so allocs/op shows what steady state costs.
func BenchmarkStream(b *testing.B) {
	benchStream(b, func(r io.Reader) *Stream { return NewStream(r, benchAvg) })
}

// BenchmarkFixed is the image splitter with the default 4 MiB chunks.
func BenchmarkFixed(b *testing.B) {
	benchStream(b, func(r io.Reader) *Stream { return NewFixed(r, DefaultFixedSize) })
}

// benchStream drains a Stream over the benchmark input per iteration.
// allocs/op is per 256 MiB; chunks/op says how many Next calls that took,
// so 0 allocs/op means 0 allocations per chunk.
func benchStream(b *testing.B, newStream func(io.Reader) *Stream) {
	data := benchInput()
	r := bytes.NewReader(data)
	s := newStream(r)
	chunks := 0
	drain := func() {
		r.Reset(data)
		s.Reset(r)
		for {
			if _, err := s.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				return
			}
			chunks++
		}
	}
	drain() // warm up: the buffer reaches its final size
	chunks = 0
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		drain()
	}
	b.ReportMetric(float64(chunks)/float64(b.N), "chunks/op")
}

// BenchmarkScanVsBaseline runs Scan and the baseline back to back in every
// iteration and reports both speeds and their ratio ("x-baseline"), so
// that load from other processes, which drifts over seconds, hits both
// alike. ns/op and MB/s cover the pair.
func BenchmarkScanVsBaseline(b *testing.B) {
	data := benchInput()
	c, ref := newChunker(benchAvg), newBaseline(benchAvg)
	run := func(scan func([]byte) int, reset func()) time.Duration {
		start := time.Now()
		reset()
		for p := data; len(p) > 0; {
			k := scan(p)
			if k == 0 {
				break
			}
			p = p[k:]
		}
		return time.Since(start)
	}
	var fast, slow time.Duration
	b.SetBytes(2 * int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		fast += run(c.Scan, c.Reset)
		slow += run(ref.scan, ref.reset)
	}
	mbps := func(d time.Duration) float64 { return float64(b.N) * float64(len(data)) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(fast), "scan-MB/s")
	b.ReportMetric(mbps(slow), "baseline-MB/s")
	b.ReportMetric(slow.Seconds()/fast.Seconds(), "x-baseline")
}
