package datastore

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// blobBenchInputs are 4 MiB chunks: log-like text that compresses about
// 3:1, and random bytes that do not compress at all.
func blobBenchInputs() []struct {
	name string
	data []byte
} {
	words := []string{"backup ", "chunk ", "digest ", "INFO ", "2026-11-22 ", "upload ", "ok\n", "index ", "vm/100 ", "error ", "0x", "42 "}
	rng := rand.New(rand.NewPCG(7, 7))
	text := make([]byte, 0, 4<<20+16)
	for len(text) < 4<<20 {
		text = append(text, words[rng.IntN(len(words))]...)
		if rng.IntN(4) == 0 {
			text = append(text, byte('a'+rng.IntN(26)), byte('0'+rng.IntN(10)))
		}
	}
	return []struct {
		name string
		data []byte
	}{
		{"compressible", text[:4<<20]},
		{"random", formatTestPRNG(7, 4<<20)},
	}
}

// blobBenchZstd returns zstd coders configured like BlobEncoder/BlobDecoder.
func blobBenchZstd(b *testing.B) (*zstd.Encoder, *zstd.Decoder) {
	zenc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false), zstd.WithEncoderConcurrency(1))
	if err != nil {
		b.Fatal(err)
	}
	zdec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxBlobSize), zstd.WithDecoderLowmem(true))
	if err != nil {
		b.Fatal(err)
	}
	return zenc, zdec
}

func BenchmarkBlobEncode(b *testing.B) {
	for _, in := range blobBenchInputs() {
		b.Run(in.name, func(b *testing.B) {
			enc := NewBlobEncoder()
			var out []byte
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if out, err = enc.Encode(out, in.data, true); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(out))/float64(len(in.data)), "size/plain")
		})
	}
}

func BenchmarkZstdEncodeRaw(b *testing.B) {
	for _, in := range blobBenchInputs() {
		b.Run(in.name, func(b *testing.B) {
			zenc, _ := blobBenchZstd(b)
			var out []byte
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				out = zenc.EncodeAll(in.data, out[:0])
			}
			b.ReportMetric(float64(len(out))/float64(len(in.data)), "size/plain")
		})
	}
}

func BenchmarkBlobDecode(b *testing.B) {
	for _, in := range blobBenchInputs() {
		b.Run(in.name, func(b *testing.B) {
			blob, err := EncodeBlob(in.data, true)
			if err != nil {
				b.Fatal(err)
			}
			dec := NewBlobDecoder()
			var out []byte
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				if out, err = dec.Decode(out, blob); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkZstdDecodeRaw(b *testing.B) {
	for _, in := range blobBenchInputs() {
		b.Run(in.name, func(b *testing.B) {
			zenc, zdec := blobBenchZstd(b)
			frame := zenc.EncodeAll(in.data, nil)
			var out []byte
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if out, err = zdec.DecodeAll(frame, out[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBlobDecodeChunk adds what a restore or verify pays on top of
// Decode: the SHA-256 of the plain data and the size check.
func BenchmarkBlobDecodeChunk(b *testing.B) {
	for _, in := range blobBenchInputs() {
		b.Run(in.name, func(b *testing.B) {
			blob, err := EncodeBlob(in.data, true)
			if err != nil {
				b.Fatal(err)
			}
			want := ComputeDigest(in.data)
			dec := NewBlobDecoder()
			var out []byte
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				if out, err = dec.DecodeChunk(out, blob, want, len(in.data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBlobFraming measures what the blob format costs over raw zstd:
// every iteration runs the raw zstd call and the blob call on the same 4
// MiB back to back, so load from other processes hits both alike, and
// reports both speeds and "overhead-%" (blob time / zstd time - 1). For
// incompressible data the blob encoder must also fall back to the plain
// data with its CRC (the format's rule), which raw zstd does not do, and
// the blob decoder checks a CRC where raw zstd copies raw blocks. The
// in-place encoder (data placed behind header room) and the view decoder
// skip the fallback's copy and the decode copy: only the CRC is left.
func BenchmarkBlobFraming(b *testing.B) {
	for _, in := range blobBenchInputs() {
		zenc, zdec := blobBenchZstd(b)
		enc, dec := NewBlobEncoder(), NewBlobDecoder()
		frame := zenc.EncodeAll(in.data, nil)
		blob, err := enc.Encode(nil, in.data, true)
		if err != nil {
			b.Fatal(err)
		}
		var zout, bout, plain []byte
		// The in-place encoder's dst keeps its room across rounds even when
		// the blob stays in place (writers take it from a pool), so that
		// its figure does not depend on whether "encode" ran first.
		ipDst := make([]byte, 0, BlobHeaderSize+zenc.MaxEncodedSize(len(in.data)))
		placed := NewBlobBuffer(len(in.data)) // data behind header room, as upload buffers hold it
		copy(placed[BlobHeaderSize:], in.data)
		ops := map[string][2]func() error{
			"encode-in-place": {
				func() error { zout = zenc.EncodeAll(in.data, zout[:0]); return nil },
				func() error {
					out, inPlace, err := enc.EncodeInPlace(ipDst, placed, true)
					if !inPlace {
						ipDst = out // an in-place blob is placed itself: not a dst for the next round
					}
					return err
				},
			},
			"decode-view": {
				func() (err error) { plain, err = zdec.DecodeAll(frame, plain[:0]); return err },
				func() (err error) { _, err = dec.DecodeView(plain, blob); return err },
			},
			"encode": {
				func() error { zout = zenc.EncodeAll(in.data, zout[:0]); return nil },
				func() (err error) { bout, err = enc.Encode(bout, in.data, true); return err },
			},
			"decode": {
				func() (err error) { plain, err = zdec.DecodeAll(frame, plain[:0]); return err },
				func() (err error) { plain, err = dec.Decode(plain, blob); return err },
			},
		}
		for _, name := range []string{"encode", "encode-in-place", "decode", "decode-view"} {
			raw, framed := ops[name][0], ops[name][1]
			b.Run(name+"/"+in.name, func(b *testing.B) {
				var tRaw, tBlob time.Duration
				timed := func(op func() error) time.Duration {
					start := time.Now()
					if err := op(); err != nil {
						b.Fatal(err)
					}
					return time.Since(start)
				}
				b.SetBytes(2 * int64(len(in.data)))
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					// The second of the two finds the caches as the first
					// left them, which favoured one side of a decode by up
					// to 14 %: they take turns going first.
					if i%2 == 0 {
						tRaw += timed(raw)
						tBlob += timed(framed)
					} else {
						tBlob += timed(framed)
						tRaw += timed(raw)
					}
				}
				mbps := func(d time.Duration) float64 { return float64(b.N) * float64(len(in.data)) / d.Seconds() / 1e6 }
				b.ReportMetric(mbps(tRaw), "zstd-MB/s")
				b.ReportMetric(mbps(tBlob), "blob-MB/s")
				b.ReportMetric(100*(tBlob.Seconds()/tRaw.Seconds()-1), "overhead-%")
			})
		}
	}
}
