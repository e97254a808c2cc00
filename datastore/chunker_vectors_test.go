package datastore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/proxkit/proxkit/chunker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cvCase is one case of ../shared/vectors/chunker/*.json (written by the
// upstream Rust chunker), reduced to what the index tests need.
type cvCase struct {
	Name  string `json:"name"`
	Input struct {
		Kind        string `json:"kind"`
		Seed        uint64 `json:"seed"`
		SeedHex     string `json:"seed_hex"`
		Length      int    `json:"length"`
		BlockLength int    `json:"block_length"`
	} `json:"input"`
	InputSHA256 string   `json:"input_sha256"`
	AvgSize     int      `json:"avg_chunk_size"`
	Chunks      [][3]any `json:"chunks"`
}

// cvChunk is one [offset, length, sha256] entry of a case.
type cvChunk struct {
	off, length uint64
	digest      Digest
}

// cvLoad reads every chunker vector file, so that a second set of the same
// format placed beside the public one is checked too.
func cvLoad(t *testing.T) []cvCase {
	t.Helper()
	files, err := filepath.Glob(formatTestShared(t, "vectors", "chunker", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out []cvCase
	for _, file := range files {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		var f struct {
			Format string   `json:"format"`
			Cases  []cvCase `json:"cases"`
		}
		require.NoError(t, json.Unmarshal(raw, &f), file)
		require.Equal(t, "pbs-chunker-vectors-v1", f.Format, file)
		for _, c := range f.Cases {
			c.Name = strings.TrimSuffix(filepath.Base(file), ".json") + "/" + c.Name
			if c.Input.Seed == 0 && c.Input.SeedHex != "" {
				c.Input.Seed, err = strconv.ParseUint(c.Input.SeedHex, 16, 64)
				require.NoError(t, err, c.Name)
			}
			out = append(out, c)
		}
	}
	return out
}

// input regenerates the case's input as the vectors' README describes.
func (c cvCase) input(t *testing.T) []byte {
	t.Helper()
	var data []byte
	switch c.Input.Kind {
	case "prng":
		data = formatTestPRNG(c.Input.Seed, c.Input.Length)
	case "zero":
		data = make([]byte, c.Input.Length)
	case "repeat":
		require.Positive(t, c.Input.BlockLength, c.Name)
		block := formatTestPRNG(c.Input.Seed, c.Input.BlockLength)
		data = bytes.Repeat(block, c.Input.Length/c.Input.BlockLength+1)[:c.Input.Length]
	default:
		t.Fatalf("%s: unknown input kind %q", c.Name, c.Input.Kind)
	}
	sum := sha256.Sum256(data)
	require.Equal(t, c.InputSHA256, hex.EncodeToString(sum[:]), c.Name)
	return data
}

// chunks decodes the entries and checks that they tile the input and that
// each digest is the SHA-256 of its bytes, i.e. our ComputeDigest.
func (c cvCase) chunks(t *testing.T, data []byte) []cvChunk {
	t.Helper()
	var out []cvChunk
	var next uint64
	for i, e := range c.Chunks {
		off, ok1 := e[0].(float64)
		length, ok2 := e[1].(float64)
		sum, ok3 := e[2].(string)
		require.True(t, ok1 && ok2 && ok3, "%s: malformed entry %d", c.Name, i)
		ch := cvChunk{off: uint64(off), length: uint64(length), digest: formatTestDigest(t, sum)}
		require.Equal(t, next, ch.off, "%s: chunk %d is not contiguous", c.Name, i)
		require.Equal(t, ComputeDigest(data[ch.off:ch.off+ch.length]), ch.digest, "%s: chunk %d", c.Name, i)
		next += ch.length
		out = append(out, ch)
	}
	require.Equal(t, uint64(len(data)), next, "%s: chunks cover the input", c.Name)
	return out
}

// TestChunkerVectorsDynamicIndex turns every chunker vector into the dynamic
// index a PBS client would upload for it and checks the round trip: the
// file is the spec 5.4 layout byte for byte, the checksum is SHA-256 over
// the entries as stored, and reading it back gives every entry, the size
// and the lookups at every chunk's first and last byte.
func TestChunkerVectorsDynamicIndex(t *testing.T) {
	for _, c := range cvLoad(t) {
		t.Run(c.Name, func(t *testing.T) {
			data := c.input(t)
			chunks := c.chunks(t, data)

			var out formatTestWriterAt
			w, err := NewDynamicIndexWriter(&out, WithIndexUUID(idxTestUUID), WithIndexCTime(idxTestCTime))
			require.NoError(t, err)
			var body []byte
			for _, ch := range chunks {
				end := ch.off + ch.length
				require.NoError(t, w.Append(end, ch.digest))
				body = binary.LittleEndian.AppendUint64(body, end)
				body = append(body, ch.digest[:]...)
			}
			csum, err := w.Close()
			require.NoError(t, err)
			assert.Equal(t, sha256.Sum256(body), csum)

			want := make([]byte, IndexHeaderSize, IndexHeaderSize+len(body))
			copy(want, didxMagic[:])
			copy(want[8:], idxTestUUID[:])
			binary.LittleEndian.PutUint64(want[24:], uint64(idxTestCTime.Unix()))
			copy(want[32:], csum[:])
			want = append(want, body...)
			require.True(t, bytes.Equal(want, out.buf), "written index differs from the spec layout")

			ix, err := ReadDynamicIndex(bytes.NewReader(out.buf), int64(len(out.buf)))
			require.NoError(t, err)
			require.Equal(t, len(chunks), ix.Count())
			assert.Equal(t, uint64(len(data)), ix.Size())
			got, err := ix.Checksum()
			require.NoError(t, err)
			assert.Equal(t, csum, got)
			for i, ch := range chunks {
				start, end, d := ix.Entry(i)
				assert.Equal(t, []any{ch.off, ch.off + ch.length, ch.digest}, []any{start, end, d}, "entry %d", i)
				for _, off := range []uint64{ch.off, ch.off + ch.length - 1} {
					k, ok := ix.ChunkFor(off)
					assert.True(t, ok && k == i, "ChunkFor(%d) = %d, %v; want %d", off, k, ok, i)
				}
			}
			_, ok := ix.ChunkFor(uint64(len(data)))
			assert.False(t, ok)
		})
	}
}

// TestChunkerVectorsBackupRestore backs up each vector input the way
// proxmox-backup-client does, through this module's chunker into a store:
// content-defined chunks into a dynamic index and 4 MiB pieces into a
// fixed one. The dynamic index must list exactly the vector's chunks (so it
// deduplicates against what the Rust client stored), both archives must
// verify, restore byte for byte and survive garbage collection.
func TestChunkerVectorsBackupRestore(t *testing.T) {
	ctx := context.Background()
	s := storeNewTest(t)
	enc, dec := NewBlobEncoder(), NewBlobDecoder()
	snapTime := time.Date(2025, 11, 22, 0, 0, 0, 0, time.UTC)
	for _, c := range cvLoad(t) {
		t.Run(c.Name, func(t *testing.T) {
			data := c.input(t)
			chunks := c.chunks(t, data)
			if _, err := chunker.New(c.AvgSize); err != nil {
				t.Skipf("average %d is outside what clients use: %v", c.AvgSize, err)
			}
			snapTime = snapTime.Add(time.Hour)
			snap := Snapshot{Group: Group{Type: TypeHost, ID: "vectors"}, Time: snapTime}
			w, err := s.BeginSnapshot(Namespace{}, snap, "root@pam")
			require.NoError(t, err)
			m := &Manifest{BackupType: "host", BackupID: "vectors", BackupTime: snapTime.Unix()}

			dyn, err := w.CreateDynamicIndex("data.pxar.didx")
			require.NoError(t, err)
			var got []cvChunk
			backupStream(t, chunker.NewStream(bytes.NewReader(data), c.AvgSize), func(ch chunker.Chunk) {
				d, _, err := s.InsertData(enc, ch.Data, true)
				require.NoError(t, err)
				end := uint64(ch.Offset) + uint64(len(ch.Data))
				require.NoError(t, dyn.Append(end, d))
				got = append(got, cvChunk{off: uint64(ch.Offset), length: uint64(len(ch.Data)), digest: d})
			})
			require.Equal(t, chunks, got, "chunker boundaries differ from the Rust client's")
			csum, err := dyn.Close()
			require.NoError(t, err)
			m.Files = append(m.Files, ManifestFile{Filename: "data.pxar.didx", CryptMode: CryptNone, Size: uint64(len(data)), Csum: Digest(csum).String()})

			fixed, err := w.CreateFixedIndex("data.img.fidx", uint64(len(data)))
			require.NoError(t, err)
			slot := 0
			backupStream(t, chunker.NewFixed(bytes.NewReader(data), FixedChunkSize), func(ch chunker.Chunk) {
				d, _, err := s.InsertData(enc, ch.Data, true)
				require.NoError(t, err)
				require.NoError(t, fixed.SetDigest(slot, d))
				slot++
			})
			csum, err = fixed.Close()
			require.NoError(t, err)
			m.Files = append(m.Files, ManifestFile{Filename: "data.img.fidx", CryptMode: CryptNone, Size: uint64(len(data)), Csum: Digest(csum).String()})
			require.NoError(t, w.Commit(m))

			res, err := s.Verify(ctx, Namespace{}, snap, VerifyOptions{})
			require.NoError(t, err)
			assert.True(t, res.OK(), "%v", res.Errors)
			for _, name := range []string{"data.pxar.didx", "data.img.fidx"} {
				restored := conformanceRestore(t, s, dec, Namespace{}, snap, name)
				assert.True(t, bytes.Equal(data, restored), "%s restores to different bytes", name)
			}
		})
	}
	// Everything is referenced: even with every chunk aged past the grace
	// period, garbage collection removes nothing.
	storeAgeChunks(t, s, time.Now().Add(-30*24*time.Hour))
	rep, err := s.GarbageCollect(ctx, GCOptions{})
	require.NoError(t, err)
	assert.Zero(t, rep.RemovedChunks)
	assert.Empty(t, rep.MissingChunks)
}

// backupStream hands every chunk of s to add.
func backupStream(t *testing.T, s *chunker.Stream, add func(chunker.Chunk)) {
	t.Helper()
	for {
		ch, err := s.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err)
		add(ch)
	}
}
