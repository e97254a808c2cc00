package datastore

import (
	"hash/crc32"
	"math/bits"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crcFoldConstant is the lane constant x^e mod P, bit-reflected and shifted
// left by one, for the normal form P = 0x104c11db7 of CRC-32/IEEE.
func crcFoldConstant(e int) uint64 {
	r := uint64(1)
	for range e {
		r <<= 1
		if r&(1<<32) != 0 {
			r ^= 0x104c11db7
		}
	}
	return uint64(bits.Reverse32(uint32(r))) << 1
}

func TestCRCFoldConstants(t *testing.T) {
	// hash/crc32's own 512-bit constants, as a check of the derivation.
	assert.Equal(t, uint64(0x154442bd4), crcFoldConstant(512+32))
	assert.Equal(t, uint64(0x1c6e41596), crcFoldConstant(512-32))

	src, err := os.ReadFile("crc_amd64.s")
	require.NoError(t, err)
	data := regexp.MustCompile(`DATA crcK(\d+)<>\+(\d+)\(SB\)/8, \$(0x[0-9a-f]+)`).FindAllStringSubmatch(string(src), -1)
	require.Len(t, data, 4, "two tables of one lane (two quadwords) each")
	for _, m := range data {
		d, _ := strconv.Atoi(m[1])
		off, _ := strconv.Atoi(m[2])
		got, err := strconv.ParseUint(m[3], 0, 64)
		require.NoError(t, err)
		want := crcFoldConstant(d + 32) // low quadword of each lane
		if off%16 == 8 {
			want = crcFoldConstant(d - 32)
		}
		assert.Equal(t, want, got, "crcK%d+%d", d, off)
	}
}

func TestCRCMatchesHashCRC32(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	buf := formatTestPRNG(5, 4<<20+64)
	var lengths []int
	for n := 0; n <= 2600; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 4095, 4096, 4097, 16<<10+255, 1<<20+7, 4<<20)
	for _, n := range lengths {
		off := rng.IntN(64)
		src := buf[off : off+n]
		init := rng.Uint32()
		want := crc32.Update(init, crc32.IEEETable, src)
		if got := crcUpdate(init, src); got != want {
			t.Fatalf("crcUpdate of %d bytes at offset %d: %08x, want %08x", n, off, got, want)
		}
		dst := make([]byte, n+64)
		for i := range dst {
			dst[i] = 0xa5
		}
		if got := crcCopy(init, dst[3:], src); got != want {
			t.Fatalf("crcCopy of %d bytes at offset %d: %08x, want %08x", n, off, got, want)
		}
		require.Equal(t, src, dst[3:3+n], "copy of %d bytes", n)
		for i, c := range append(dst[:3:3], dst[3+n:]...) {
			require.Equal(t, byte(0xa5), c, "byte %d outside the copy of %d bytes written", i, n)
		}
	}
	t.Logf("vector loop in use: %v", crcHasFold)
}

func TestCRCDoesNotAllocate(t *testing.T) {
	src := formatTestPRNG(6, 64<<10+100)
	dst := make([]byte, len(src))
	assert.Zero(t, testing.AllocsPerRun(20, func() { crcUpdate(1, src) }))
	assert.Zero(t, testing.AllocsPerRun(20, func() { crcCopy(1, dst, src) }))
}

func FuzzCRC(f *testing.F) {
	f.Add(uint32(0), []byte("123456789"))
	f.Add(uint32(0xffffffff), formatTestPRNG(1, 1024))
	f.Add(uint32(7), formatTestPRNG(2, 3000))
	f.Fuzz(func(t *testing.T, init uint32, p []byte) {
		want := crc32.Update(init, crc32.IEEETable, p)
		assert.Equal(t, want, crcUpdate(init, p))
		dst := make([]byte, len(p))
		assert.Equal(t, want, crcCopy(init, dst, p))
		assert.Equal(t, p, dst)
	})
}

// BenchmarkCRC compares the blob CRC with hash/crc32 on 16 KiB (the piece
// of the fused SHA-256+CRC pass) and 64 KiB buffers, in the core's cache,
// and a 4 MiB one (beyond this machine's L2), alone and with a copy.
func BenchmarkCRC(b *testing.B) {
	for _, size := range []int{16 << 10, 64 << 10, 4 << 20} {
		src, dst := formatTestPRNG(9, size), make([]byte, size)
		name := strconv.Itoa(size>>10) + "KiB"
		run := func(op string, f func()) {
			b.Run(op+"/"+name, func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					f()
				}
			})
		}
		run("hash-crc32", func() { crc32.ChecksumIEEE(src) })
		run("crcUpdate", func() { crcUpdate(0, src) })
		run("copy+hash-crc32", func() { copy(dst, src); crc32.ChecksumIEEE(dst) })
		run("crcCopy", func() { crcCopy(0, dst, src) })
	}
}
