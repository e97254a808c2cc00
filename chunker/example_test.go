package chunker_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"

	"github.com/proxkit/proxkit/chunker"
)

// pseudoRandom returns n reproducible bytes.
func pseudoRandom(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:n]
}

func ExampleNewStream() {
	input := pseudoRandom(1 << 20)
	s := chunker.NewStream(bytes.NewReader(input), chunker.MinAvgSize)
	for {
		c, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		// c.Data is only valid until the next call to Next: hash it now.
		digest := sha256.Sum256(c.Data)
		fmt.Printf("offset %7d  length %6d  sha256 %x…\n", c.Offset, len(c.Data), digest[:8])
	}
	// Output:
	// offset       0  length  23354  sha256 6f8ba280febeb75a…
	// offset   23354  length  75397  sha256 740a6ec79a657fb6…
	// offset   98751  length 105072  sha256 1b28523ce4cf5f53…
	// offset  203823  length  25930  sha256 2ef48a36e7268548…
	// offset  229753  length  21445  sha256 399204c769ab7a0c…
	// offset  251198  length  44312  sha256 f096df89c7162be9…
	// offset  295510  length  52553  sha256 f2b83beba941adaf…
	// offset  348063  length  81152  sha256 3529e77a6117c62a…
	// offset  429215  length  57059  sha256 7a4429523b209872…
	// offset  486274  length 110070  sha256 8b9adb406adda5df…
	// offset  596344  length  69076  sha256 07d01718d91295ac…
	// offset  665420  length  42757  sha256 90f52d7e78b48fac…
	// offset  708177  length  45056  sha256 f0aad7caabe1af89…
	// offset  753233  length  54286  sha256 6902c0f7cacd3669…
	// offset  807519  length  47366  sha256 686967ba5677f516…
	// offset  854885  length  21175  sha256 837cb0979f3f4fe3…
	// offset  876060  length 153045  sha256 ac1aaf109a59b1bc…
	// offset 1029105  length  19471  sha256 94f747c46d29f952…
}

func ExampleNewFixed() {
	image := make([]byte, 10<<20)
	s := chunker.NewFixed(bytes.NewReader(image), chunker.DefaultFixedSize)
	for {
		c, err := s.Next()
		if err != nil {
			break
		}
		fmt.Println(c.Offset, len(c.Data))
	}
	// Output:
	// 0 4194304
	// 4194304 4194304
	// 8388608 2097152
}

func ExampleChunker_Scan() {
	c, err := chunker.New(chunker.MinAvgSize)
	if err != nil {
		fmt.Println(err)
		return
	}
	input := pseudoRandom(1 << 20)
	// Feed any buffers; after a boundary, feed the rest of the same buffer.
	offset := 0
	for buf := range slices.Chunk(input, 100_000) {
		for {
			k := c.Scan(buf)
			if k == 0 {
				offset += len(buf)
				break
			}
			offset += k
			fmt.Println("boundary at", offset)
			buf = buf[k:]
		}
	}
	fmt.Println("last chunk ends at", offset)
	// Output:
	// boundary at 23354
	// boundary at 98751
	// boundary at 203823
	// boundary at 229753
	// boundary at 251198
	// boundary at 295510
	// boundary at 348063
	// boundary at 429215
	// boundary at 486274
	// boundary at 596344
	// boundary at 665420
	// boundary at 708177
	// boundary at 753233
	// boundary at 807519
	// boundary at 854885
	// boundary at 876060
	// boundary at 1029105
	// last chunk ends at 1048576
}

func ExampleNew_invalid() {
	_, err := chunker.New(3 << 20)
	fmt.Println(err)
	// Output:
	// chunker: invalid average chunk size 3145728: must be a power of two from 64 KiB (65536) to 4 MiB (4194304)
}
