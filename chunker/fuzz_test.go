package chunker

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fuzzAvg maps a fuzzer byte to an average from 2 to 2048 bytes, so that
// inputs of a few KiB already hold several chunks.
func fuzzAvg(sel uint8) int { return 2 << (sel % 11) }

func fuzzSeeds(f *testing.F, add func(data []byte, seed uint64, sel uint8)) {
	add(prngBytes(1, 4096), 1, 0)
	add(prngBytes(2, 20000), 2, 1)
	add(make([]byte, 9000), 3, 2)
	add(bytes.Repeat(cutWindow(512), 40), 4, 0)
	add(bytes.Repeat(cutWindow(1024), 70), 5, 1)
	add(nil, 6, 0)
	add([]byte{1}, 7, 1)
}

// FuzzScan: however the input is split into buffers, Scan finds the
// boundaries the spec's pseudocode finds on the whole input, and every chunk
// but the last is within [min, max].
func FuzzScan(f *testing.F) {
	fuzzSeeds(f, func(data []byte, seed uint64, sel uint8) { f.Add(data, seed, sel) })
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, sel uint8) {
		avg := fuzzAvg(sel)
		want := cutsOf(newBaseline(avg).scan, data, whole)

		require.Equal(t, want, cutsOf(newChunker(avg).Scan, data, whole), "fed whole")

		rng := rand.New(rand.NewPCG(seed, 3))
		maxPiece := 1 + rng.IntN(3*windowSize)
		pieces := func() int { return 1 + rng.IntN(maxPiece) }
		require.Equal(t, want, cutsOf(newChunker(avg).Scan, data, pieces), "fed in pieces up to %d", maxPiece)

		c := newChunker(avg)
		start := 0
		for _, cut := range want {
			assert.GreaterOrEqual(t, cut-start, c.min)
			assert.LessOrEqual(t, cut-start, c.max)
			start = cut
		}
		assert.LessOrEqual(t, len(data)-start, c.max)
	})
}

// FuzzStream: whatever short reads the reader makes, the stream returns the
// chunks Scan finds (or the fixed-size pieces), contiguous and complete.
func FuzzStream(f *testing.F) {
	fuzzSeeds(f, func(data []byte, seed uint64, sel uint8) { f.Add(data, seed, sel, sel%2 == 0) })
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, sel uint8, fixed bool) {
		r := newChoppyReader(data, seed, 1+int(seed%5000))
		var s *Stream
		var want []int
		if fixed {
			size := 1 + int(sel)*13
			s = NewFixed(r, size)
			for end := size; end < len(data); end += size {
				want = append(want, end)
			}
			want = chunkEnds(want, len(data))
		} else {
			avg := fuzzAvg(sel)
			s = newStream(r, newChunker(avg))
			want = chunkEnds(cutsOf(newChunker(avg).Scan, data, whole), len(data))
		}
		ends, joined, err := drain(t, s)
		require.ErrorIs(t, err, io.EOF)
		assert.Equal(t, want, ends)
		assert.True(t, bytes.Equal(data, joined))
	})
}

// FuzzSizes: constructors never panic, and accept exactly the documented
// sizes.
func FuzzSizes(f *testing.F) {
	for _, size := range []int{0, -1, 1, 1000, MinAvgSize, MaxAvgSize, 3 << 20, MaxChunkSize, MaxChunkSize + 1} {
		f.Add(size)
	}
	f.Fuzz(func(t *testing.T, size int) {
		_, err := New(size)
		valid := size >= MinAvgSize && size <= MaxAvgSize && size&(size-1) == 0
		assert.Equal(t, valid, err == nil, "New(%d): %v", size, err)
		if err != nil {
			assert.ErrorIs(t, err, ErrInvalidSize)
		}

		_, err = NewFixed(bytes.NewReader(nil), size).Next()
		validFixed := size >= 0 && size <= MaxChunkSize
		if validFixed {
			assert.ErrorIs(t, err, io.EOF)
		} else {
			var se *SizeError
			assert.True(t, errors.As(err, &se), "NewFixed(%d): %v", size, err)
		}
	})
}
