package chunker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// choppyReader hands out its data in pieces of random length, empty ones
// included, and sometimes returns io.EOF together with the last bytes: all
// the things io.Reader allows.
type choppyReader struct {
	data    []byte
	rng     *rand.Rand
	maxRead int
}

func newChoppyReader(data []byte, seed uint64, maxRead int) *choppyReader {
	return &choppyReader{data: data, rng: rand.New(rand.NewPCG(seed, 2)), maxRead: maxRead}
}

func (r *choppyReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(r.data), r.rng.IntN(r.maxRead+1))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	if len(r.data) == 0 && r.rng.IntN(2) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// drain reads s to its end and returns the chunk ends, the chunks joined
// together and the error that ended the stream. Offsets must be contiguous.
func drain(t *testing.T, s *Stream) (ends []int, joined []byte, err error) {
	t.Helper()
	for {
		c, err := s.Next()
		if err != nil {
			return ends, joined, err
		}
		require.Equal(t, int64(len(joined)), c.Offset, "chunk %d offset", len(ends))
		require.NotEmpty(t, c.Data, "chunk %d", len(ends))
		joined = append(joined, c.Data...)
		ends = append(ends, len(joined))
	}
}

func TestStreamMatchesScan(t *testing.T) {
	for _, avg := range testAvgs[:2] {
		for name, data := range adversarialInputs(avg, inputLength(avg)) {
			want := chunkEnds(cutsOf(newChunker(avg).Scan, data, whole), len(data))
			readers := map[string]func() io.Reader{
				"bytes.Reader":  func() io.Reader { return bytes.NewReader(data) },
				"one byte":      func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
				"data with EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) },
				"choppy":        func() io.Reader { return newChoppyReader(data, uint64(avg), 3*avg) },
			}
			for rname, newReader := range readers {
				t.Run(fmt.Sprintf("avg %d/%s/%s", avg, name, rname), func(t *testing.T) {
					ends, joined, err := drain(t, newStream(newReader(), newChunker(avg)))
					require.ErrorIs(t, err, io.EOF)
					assert.Equal(t, want, ends)
					assert.True(t, bytes.Equal(data, joined), "chunks joined equal the input")
				})
			}
		}
	}
}

func TestStreamEmptyInput(t *testing.T) {
	for _, s := range []*Stream{NewStream(bytes.NewReader(nil), DefaultAvgSize), NewFixed(bytes.NewReader(nil), 0)} {
		for range 2 {
			c, err := s.Next()
			assert.ErrorIs(t, err, io.EOF)
			assert.Empty(t, c.Data)
		}
	}
}

func TestStreamReadErrorAfterCompleteChunks(t *testing.T) {
	const avg = 4096
	data := prngBytes(5, 64*avg)
	cuts := cutsOf(newChunker(avg).Scan, data, whole)
	require.Greater(t, len(cuts), 3)
	boom := errors.New("disk on fire")
	// The reader fails after the fourth boundary, before the stream can see
	// whether the bytes after it end a chunk.
	r := io.MultiReader(bytes.NewReader(data[:cuts[3]+10]), iotest.ErrReader(boom))

	ends, _, err := drain(t, newStream(r, newChunker(avg)))
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, cuts[:4], ends, "the complete chunks come first")
}

func TestStreamErrorsAreSticky(t *testing.T) {
	boom := errors.New("boom")
	s := NewStream(iotest.ErrReader(boom), DefaultAvgSize)
	for range 3 {
		_, err := s.Next()
		assert.ErrorIs(t, err, boom)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

type lyingReader struct{}

func (lyingReader) Read(p []byte) (int, error) { return len(p) + 1, nil }

type negativeReader struct{}

func (negativeReader) Read([]byte) (int, error) { return -1, nil }

func TestStreamMisbehavingReaders(t *testing.T) {
	for name, tc := range map[string]struct {
		r    io.Reader
		want error
	}{
		"never progresses": {zeroReader{}, io.ErrNoProgress},
		"claims too much":  {lyingReader{}, errBadRead},
		"negative count":   {negativeReader{}, errBadRead},
	} {
		t.Run(name, func(t *testing.T) {
			for _, s := range []*Stream{NewStream(tc.r, DefaultAvgSize), NewFixed(tc.r, 0)} {
				_, err := s.Next()
				assert.ErrorIs(t, err, tc.want)
			}
		})
	}
}

func TestNewRejectsInvalidAverages(t *testing.T) {
	for _, avg := range []int{-1, 0, 512, 32 << 10, 64<<10 - 1, 64<<10 + 1, 96 << 10, 3 << 20, 8 << 20, math.MaxInt} {
		t.Run(fmt.Sprint(avg), func(t *testing.T) {
			c, err := New(avg)
			assert.Nil(t, c)
			require.ErrorIs(t, err, ErrInvalidSize)
			var se *SizeError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, avg, se.Size)
			assert.Contains(t, err.Error(), "power of two from 64 KiB (65536) to 4 MiB (4194304)")

			_, err = NewStream(bytes.NewReader([]byte("x")), avg).Next()
			assert.ErrorIs(t, err, ErrInvalidSize)
		})
	}
}

func TestNewAcceptsClientAverages(t *testing.T) {
	for avg := MinAvgSize; avg <= MaxAvgSize; avg *= 2 {
		c, err := New(avg)
		require.NoError(t, err, avg)
		assert.Equal(t, avg/4, c.min)
		assert.Equal(t, avg*4, c.max)
	}
}

func TestNewFixedRejectsInvalidSizes(t *testing.T) {
	for _, size := range []int{-1, MaxChunkSize + 1} {
		_, err := NewFixed(bytes.NewReader([]byte("x")), size).Next()
		require.ErrorIs(t, err, ErrInvalidSize, size)
		var se *SizeError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "fixed chunk size", se.Kind)
	}
}

func TestFixed(t *testing.T) {
	const size = 1000
	for _, length := range []int{1, size - 1, size, size + 1, 3 * size, 3*size + 7} {
		data := prngBytes(uint64(length), length)
		for rname, r := range map[string]io.Reader{
			"bytes.Reader": bytes.NewReader(data),
			"choppy":       newChoppyReader(data, uint64(length), 2*size),
		} {
			t.Run(fmt.Sprintf("%d bytes/%s", length, rname), func(t *testing.T) {
				ends, joined, err := drain(t, NewFixed(r, size))
				require.ErrorIs(t, err, io.EOF)
				var want []int
				for end := size; end < length; end += size {
					want = append(want, end)
				}
				want = append(want, length)
				assert.Equal(t, want, ends)
				assert.True(t, bytes.Equal(data, joined))
			})
		}
	}
}

func TestFixedDefaultsTo4MiB(t *testing.T) {
	data := make([]byte, DefaultFixedSize+5)
	ends, _, err := drain(t, NewFixed(bytes.NewReader(data), 0))
	require.ErrorIs(t, err, io.EOF)
	assert.Equal(t, []int{DefaultFixedSize, DefaultFixedSize + 5}, ends)
}

// Appending to a chunk's Data must not overwrite the next chunk in the
// stream's buffer.
func TestChunkDataCannotClobberTheNext(t *testing.T) {
	data := prngBytes(11, 64<<10)
	s := newStream(bytes.NewReader(data), newChunker(512))
	var joined []byte
	for {
		c, err := s.Next()
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		joined = append(joined, c.Data...)
		_ = append(c.Data, 0xAA, 0xBB, 0xCC)
	}
	assert.True(t, bytes.Equal(data, joined))
}

func TestStreamResetReusesBuffer(t *testing.T) {
	first, second := prngBytes(21, 3<<20), prngBytes(22, 2<<20)
	s := NewStream(bytes.NewReader(first), MinAvgSize)
	_, _, err := drain(t, s)
	require.ErrorIs(t, err, io.EOF)
	buf := &s.buf[:1][0]

	s.Reset(bytes.NewReader(second))
	ends, joined, err := drain(t, s)
	require.ErrorIs(t, err, io.EOF)
	c, err := New(MinAvgSize)
	require.NoError(t, err)
	assert.Equal(t, chunkEnds(cutsOf(c.Scan, second, whole), len(second)), ends)
	assert.True(t, bytes.Equal(second, joined))
	assert.Same(t, buf, &s.buf[:1][0], "the buffer is reused")
}

// countingReader records how much room each Read was offered.
type countingReader struct {
	r     io.Reader
	calls int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.calls++
	return c.r.Read(p)
}

// The stream reads in large blocks and never buffers more than two maximum
// chunks.
func TestStreamReadsLargeBlocksWithinBound(t *testing.T) {
	const avg = 4096
	data := prngBytes(31, 400*avg)
	cr := &countingReader{r: bytes.NewReader(data)}
	s := newStream(cr, newChunker(avg))
	_, _, err := drain(t, s)
	require.ErrorIs(t, err, io.EOF)
	limit := 2 * 4 * avg
	assert.Equal(t, limit, len(s.buf))
	// Each read is offered at least the half of the buffer a pending partial
	// chunk leaves free.
	assert.LessOrEqual(t, cr.calls, len(data)/(limit/2)+2)
}
