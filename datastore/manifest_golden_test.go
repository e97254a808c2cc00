package datastore

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGoldenRealDatastore reads everything a real PBS 3.2.4 wrote into
// ../shared/artifacts/real-datastore: both manifests, every index they list
// (checked against the manifest's csum and size), all five chunk files
// (CRC, digest, size), and restores disk.img byte for byte.
func TestGoldenRealDatastore(t *testing.T) {
	base := formatTestShared(t, "artifacts", "real-datastore")
	group := filepath.Join(base, "host", "fixture")

	// Chunks: the file name is the digest; decoding checks CRC and digest.
	chunkFiles, err := filepath.Glob(filepath.Join(base, ".chunks", "*", "*"))
	require.NoError(t, err)
	require.Len(t, chunkFiles, 5)
	chunks := map[Digest][]byte{}
	dec := NewBlobDecoder()
	for _, f := range chunkFiles {
		d := formatTestDigest(t, filepath.Base(f))
		assert.Equal(t, d.String()[:4], filepath.Base(filepath.Dir(f)), "prefix directory")
		blob, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, CheckBlobCRC(blob), f)
		h, err := ParseBlobHeader(blob)
		require.NoError(t, err)
		assert.Equal(t, CryptNone, h.Kind.CryptMode())
		data, err := dec.DecodeChunk(nil, blob, d, -1)
		require.NoError(t, err, f)
		chunks[d] = data
	}

	snapshots := []string{"2025-11-22T08:26:40Z", "2025-11-22T09:26:40Z"}
	var disk []byte
	for _, snapDir := range snapshots {
		dir := filepath.Join(group, snapDir)
		blob, err := os.ReadFile(filepath.Join(dir, "index.json.blob"))
		require.NoError(t, err)
		h, err := ParseBlobHeader(blob)
		require.NoError(t, err)
		assert.Equal(t, BlobCompressed, h.Kind, "the server stores manifests compressed")
		m, err := DecodeManifestBlob(blob)
		require.NoError(t, err)

		snap, err := m.Snapshot()
		require.NoError(t, err)
		assert.Equal(t, "host/fixture/"+snapDir, snap.String())
		parsed, err := ParseSnapshot("host/fixture/" + snapDir)
		require.NoError(t, err)
		assert.Equal(t, parsed.Time.Unix(), m.BackupTime)
		assert.Empty(t, m.Signature)
		require.NotNil(t, m.Unprotected.ChunkUploadStats)
		assert.Empty(t, m.Unprotected.Extra)

		// Re-marshaling gives the server's bytes back.
		plain, err := DecodeBlob(blob)
		require.NoError(t, err)
		out, err := m.MarshalJSON()
		require.NoError(t, err)
		assert.Equal(t, string(plain), string(out))

		// Every index matches its manifest entry.
		for _, f := range m.Files {
			ty, err := ParseArchiveName(f.Filename)
			require.NoError(t, err)
			assert.Equal(t, CryptNone, f.CryptMode)
			path := filepath.Join(dir, f.Filename)
			var csum [32]byte
			var size uint64
			var digests []Digest
			var ranges [][2]uint64
			switch ty {
			case ArchiveFixed:
				ix, err := OpenFixedIndex(path)
				require.NoError(t, err)
				csum, size = ix.Checksum(), ix.Size()
				assert.Equal(t, csum, ix.StoredChecksum())
				for i := range ix.Count() {
					s, e := ix.ChunkRange(i)
					digests, ranges = append(digests, ix.Digest(i)), append(ranges, [2]uint64{s, e})
				}
			case ArchiveDynamic:
				ix, err := OpenDynamicIndex(path)
				require.NoError(t, err)
				csum, err = ix.Checksum()
				require.NoError(t, err)
				size = ix.Size()
				assert.Equal(t, csum, ix.StoredChecksum())
				for i := range ix.Count() {
					s, e, d := ix.Entry(i)
					digests, ranges = append(digests, d), append(ranges, [2]uint64{s, e})
				}
				i, ok := ix.ChunkFor(size - 1)
				assert.True(t, ok)
				assert.Equal(t, ix.Count()-1, i)
				_, ok = ix.ChunkFor(size)
				assert.False(t, ok)
			default:
				t.Fatalf("unexpected archive %s", f.Filename)
			}
			assert.Equal(t, f.Csum, hex.EncodeToString(csum[:]), f.Filename)
			assert.Equal(t, f.Size, size, f.Filename)

			// Assemble the archive from its chunks.
			var data []byte
			for i, d := range digests {
				c, ok := chunks[d]
				require.True(t, ok, "chunk %s of %s missing", d, f.Filename)
				require.Equal(t, int(ranges[i][1]-ranges[i][0]), len(c), "chunk %d of %s", i, f.Filename)
				data = append(data, c...)
			}
			require.Len(t, data, int(size))
			switch f.Filename {
			case "disk.img.fidx":
				disk = data
			case "root.pxar.didx":
				assert.True(t, bytes.Contains(data, []byte("hello from a real PBS fixture\n")))
				assert.True(t, bytes.Contains(data, formatTestPRNG(4711, 300000)), "sub/data.bin inside the pxar stream")
			case "catalog.pcat1.didx":
				assert.Equal(t, "91fd60f9c46758d5", hex.EncodeToString(data[:8]), "catalog magic")
				assert.True(t, strings.Contains(string(data), "root.pxar.didx"))
			}
		}

		// A fresh encoding of the manifest decodes to the same manifest.
		again, err := m.EncodeBlob(nil)
		require.NoError(t, err)
		m2, err := DecodeManifestBlob(again)
		require.NoError(t, err)
		assert.Equal(t, m, m2)
	}
	assert.True(t, bytes.Equal(formatTestPRNG(31337, 10498105), disk), "restored disk.img differs from the PRNG input")
}
