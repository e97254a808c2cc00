package datastore

import (
	"crypto/sha256"
	"hash/crc32"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// PayloadSum fed in any pieces gives the SHA-256 and the CRC-32 of the
// whole, from its zero value and after a Reset, and Sum leaves it as it is.
func TestPayloadSumMatchesWholeSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	data := make([]byte, 3*blobSumPiece+777)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	var s PayloadSum
	d0, c0 := s.Sum()
	assert.Equal(t, Digest(sha256.Sum256(nil)), d0, "the zero value sums nothing")
	assert.Zero(t, c0)
	for round := range 20 {
		s.Reset()
		p := data[:rng.IntN(len(data)+1)]
		for rest := p; len(rest) > 0; {
			k := min(len(rest), 1+rng.IntN(2*blobSumPiece))
			n, err := s.Write(rest[:k])
			assert.NoError(t, err)
			assert.Equal(t, k, n)
			rest = rest[k:]
		}
		d, crc := s.Sum()
		assert.Equal(t, Digest(sha256.Sum256(p)), d, "round %d", round)
		assert.Equal(t, crc32.ChecksumIEEE(p), crc, "round %d", round)
		d2, crc2 := s.Sum()
		assert.Equal(t, d, d2)
		assert.Equal(t, crc, crc2)
	}
}

// ComputeDigest, hashing in prefetched pieces, is SHA-256 at every length
// around the piece boundaries, without allocating.
func TestComputeDigestIsSHA256(t *testing.T) {
	data := make([]byte, 3*blobSumPiece+2)
	for i := range data {
		data[i] = byte(i * 131)
	}
	for _, n := range []int{0, 1, blobSumPiece - 1, blobSumPiece, blobSumPiece + 1, 2 * blobSumPiece, len(data)} {
		assert.Equal(t, Digest(sha256.Sum256(data[:n])), ComputeDigest(data[:n]), "length %d", n)
	}
	assert.Zero(t, testing.AllocsPerRun(10, func() { ComputeDigest(data) }))
}
