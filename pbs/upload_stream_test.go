package pbs

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/chunker"
)

// cutAll cuts r with a streamCutter and returns the chunks.
func cutAll(t *testing.T, r io.Reader, avg int) ([][]byte, error) {
	t.Helper()
	c, err := newStreamCutter(r, avg, newBufferPool(2))
	require.NoError(t, err)
	defer c.close()
	empty, err := c.prime()
	if err != nil {
		return nil, err
	}
	if empty {
		return nil, nil
	}
	var out [][]byte
	for {
		buf := make([]byte, hdr, hdr+1000) // small: forces the buffer to grow
		chunk, err := c.next(buf)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		require.Equal(t, make([]byte, hdr), chunk[:hdr], "the header room stays in front")
		out = append(out, bytes.Clone(chunk[hdr:]))
	}
}

// The cutter finds exactly the boundaries of chunker.Stream, however the
// input arrives.
func TestStreamCutterMatchesChunker(t *testing.T) {
	data := make([]byte, 4<<20+333)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(data)
	copy(data[2<<20:], make([]byte, 600<<10)) // some constant data too
	for _, avg := range []int{64 << 10, 256 << 10, 1 << 20, 2 << 20} {
		var want [][]byte
		st := chunker.NewStream(bytes.NewReader(data), avg)
		for {
			c, err := st.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			want = append(want, bytes.Clone(c.Data))
		}
		for name, r := range map[string]io.Reader{
			"whole":   bytes.NewReader(data),
			"half":    iotest.HalfReader(bytes.NewReader(data)),
			"dataerr": iotest.DataErrReader(bytes.NewReader(data)),
		} {
			got, err := cutAll(t, r, avg)
			require.NoError(t, err, name)
			require.Equal(t, len(want), len(got), "avg %d, %s", avg, name)
			for i := range want {
				require.True(t, bytes.Equal(want[i], got[i]), "avg %d, %s: chunk %d", avg, name, i)
			}
		}
	}
	got, err := cutAll(t, iotest.OneByteReader(bytes.NewReader(data[:300<<10])), 64<<10)
	require.NoError(t, err)
	assert.Equal(t, data[:300<<10], bytes.Join(got, nil))
}

func TestStreamCutterEdges(t *testing.T) {
	got, err := cutAll(t, bytes.NewReader(nil), 64<<10)
	require.NoError(t, err)
	assert.Empty(t, got, "empty input: no chunk")

	got, err = cutAll(t, bytes.NewReader([]byte("x")), 64<<10)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("x")}, got)

	boom := errors.New("disk on fire")
	_, err = cutAll(t, iotest.ErrReader(boom), 64<<10)
	assert.ErrorIs(t, err, boom)
	data := make([]byte, 1<<20)
	_, err = cutAll(t, io.MultiReader(bytes.NewReader(data), iotest.ErrReader(boom)), 64<<10)
	assert.ErrorIs(t, err, boom)
	assert.ErrorContains(t, err, "read input")

	_, err = newStreamCutter(bytes.NewReader(nil), 1000, newBufferPool(1))
	assert.ErrorIs(t, err, chunker.ErrInvalidSize)
}

// streamChunks cuts data with chunker.Stream, the reference.
func streamChunks(t *testing.T, data []byte, avg int) [][]byte {
	t.Helper()
	var out [][]byte
	st := chunker.NewStream(bytes.NewReader(data), avg)
	for {
		c, err := st.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		out = append(out, bytes.Clone(c.Data))
	}
}

// The parallel scan (averages of 1 MiB and more) finds the reference
// boundaries too: cuts by the hash, forced cuts at the maximum in constant
// data, inputs ending before the minimum, between rounds, and at exact
// multiples of the segment length.
func TestStreamCutterParallelEdges(t *testing.T) {
	if newSegScanner(4<<20) == nil {
		t.Skip("one core: no parallel scan")
	}
	data := make([]byte, 0, 32<<20)
	data = append(data, randomBytes(21, 12<<20)...)
	data = append(data, make([]byte, 18<<20)...) // one cut at the 16 MiB maximum
	data = append(data, randomBytes(22, 2<<20)...)
	for _, avg := range []int{1 << 20, 4 << 20} {
		want := streamChunks(t, data, avg)
		got, err := cutAll(t, bytes.NewReader(data), avg)
		require.NoError(t, err)
		require.Equal(t, len(want), len(got), "avg %d", avg)
		for i := range want {
			require.True(t, bytes.Equal(want[i], got[i]), "avg %d: chunk %d (%d vs %d bytes)", avg, i, len(want[i]), len(got[i]))
		}
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	src := randomBytes(23, 6<<20)
	lengths := []int{1, 256<<10 - 1, 256 << 10, 256<<10 + 1, 768 << 10, 1 << 20, 3 << 20, 4<<20 + 1}
	for range 12 {
		lengths = append(lengths, rnd.IntN(len(src)))
	}
	for _, n := range lengths {
		want := streamChunks(t, src[:n], 1<<20)
		got, err := cutAll(t, iotest.HalfReader(bytes.NewReader(src[:n])), 1<<20)
		require.NoError(t, err)
		require.Equal(t, len(want), len(got), "length %d", n)
		for i := range want {
			require.True(t, bytes.Equal(want[i], got[i]), "length %d: chunk %d", n, i)
		}
	}
}

func randomBytes(seed byte, n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}
