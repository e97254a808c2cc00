package datastore

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSealUncompressedMatchesEncode(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("chunk data "), 1000)} {
		want, err := EncodeBlob(data, false)
		require.NoError(t, err)
		buf := append(make([]byte, BlobHeaderSize), data...)
		require.NoError(t, SealUncompressed(buf))
		assert.Equal(t, want, buf)
		got, err := DecodeBlob(buf)
		require.NoError(t, err)
		assert.Equal(t, len(data), len(got))
	}
	assert.ErrorIs(t, SealUncompressed(make([]byte, BlobHeaderSize-1)), ErrTruncated)
}
