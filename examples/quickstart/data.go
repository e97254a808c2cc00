package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
)

// dumpData is a generated database dump of about size bytes: compressible
// text with variation, the same on every run.
func dumpData(size int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "INSERT INTO orders VALUES (%d, 'customer-%d', %d.%02d, '%x');\n",
			i, r.IntN(5000), r.IntN(1000), r.IntN(100), r.Uint64())
	}
	return b.Bytes()
}

// imageData is a generated disk image of blocks 4 MiB chunks: random data
// with an all-zero stretch in the middle, as a partly used disk has.
func imageData(blocks int) []byte {
	const block = 4 << 20
	img := make([]byte, blocks*block)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range blocks {
		if i == blocks/2 || i == blocks/2+1 {
			continue // zeros
		}
		for j := i * block; j < (i+1)*block; j += 8 {
			v := r.Uint64()
			for k := range 8 {
				img[j+k] = byte(v >> (8 * k))
			}
		}
	}
	return img
}

// changeDump inserts a line in the middle of a dump, as the next day's
// dump would differ.
func changeDump(dump []byte) []byte {
	mid := bytes.IndexByte(dump[len(dump)/2:], '\n') + len(dump)/2 + 1
	out := append([]byte{}, dump[:mid]...)
	out = append(out, "INSERT INTO orders VALUES (-1, 'new customer', 9.99, 'ff');\n"...)
	return append(out, dump[mid:]...)
}

// changeImage rewrites a few bytes of the image's first 4 MiB chunk.
func changeImage(img []byte) []byte {
	out := append([]byte{}, img...)
	copy(out[1000:], "changed")
	return out
}
