package datastore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunkTestBlob builds a blob of the given kind with a payload of n bytes
// of value fill and a correct CRC. Encrypted kinds get a zero IV and tag:
// the store never decrypts, it only looks at magic, length and CRC.
func chunkTestBlob(kind BlobKind, n int, fill byte) []byte {
	magic := kind.blobMagic()
	hdr := kind.HeaderSize()
	blob := make([]byte, hdr+n)
	copy(blob, magic[:])
	for i := hdr; i < len(blob); i++ {
		blob[i] = fill
	}
	binary.LittleEndian.PutUint32(blob[8:12], crc32.ChecksumIEEE(blob[hdr:]))
	return blob
}

func TestChunkPathLayout(t *testing.T) {
	s := storeNewTest(t)
	d, err := ParseDigest("a342e8151c000000000000000000000000000000000000000000000000000001")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(s.Path(), ".chunks", "a342", d.String()), s.ChunkPath(d))
}

func TestCreateLazyPrefixDirs(t *testing.T) {
	s := storeNewTest(t)
	entries, err := os.ReadDir(filepath.Join(s.Path(), ".chunks"))
	require.NoError(t, err)
	assert.Empty(t, entries, "prefix directories are made on demand")
	assert.FileExists(t, filepath.Join(s.Path(), ".lock"))

	d, res, err := s.InsertData(NewBlobEncoder(), []byte("lazy"), false)
	require.NoError(t, err)
	assert.False(t, res.Duplicate)
	assert.FileExists(t, s.ChunkPath(d))

	_, err = Create(context.Background(), s.Path())
	assert.ErrorIs(t, err, ErrDatastoreExists)
}

func TestCreateAllPrefixDirs(t *testing.T) {
	// All 65536 directories take seconds on a busy disk: check the naming
	// on a slice of them, and the whole Create only on request.
	chunkDir := t.TempDir()
	require.NoError(t, storeMakePrefixDirs(context.Background(), chunkDir, 0xfe00, 0x10000))
	entries, err := os.ReadDir(chunkDir)
	require.NoError(t, err)
	assert.Len(t, entries, 512)
	assert.Equal(t, "fe00", entries[0].Name())
	assert.Equal(t, "ffff", entries[511].Name())
	require.NoError(t, storeMakePrefixDirs(context.Background(), chunkDir, 0xfe00, 0xfe01), "existing directories are fine")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Create(ctx, filepath.Join(t.TempDir(), "s"), WithAllPrefixDirs())
	assert.ErrorIs(t, err, context.Canceled)

	lazy := storeNewTest(t)
	d, _, err := lazy.InsertData(NewBlobEncoder(), []byte("made lazily"), false)
	require.NoError(t, err)
	assert.ErrorIs(t, lazy.MakePrefixDirs(ctx), context.Canceled)

	if os.Getenv("PROXKIT_SLOW_TESTS") == "" {
		t.Skip("set PROXKIT_SLOW_TESTS=1 to create all 65536 prefix directories")
	}
	s := storeNewTest(t, WithAllPrefixDirs())
	entries, err = os.ReadDir(filepath.Join(s.Path(), ".chunks"))
	require.NoError(t, err)
	assert.Len(t, entries, 65536)

	// Adding them to a lazily made store keeps its chunks.
	require.NoError(t, lazy.MakePrefixDirs(context.Background()))
	entries, err = os.ReadDir(filepath.Join(lazy.Path(), ".chunks"))
	require.NoError(t, err)
	assert.Len(t, entries, 65536)
	_, err = lazy.GetChunk(NewBlobDecoder(), nil, d, true)
	assert.NoError(t, err)
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(t.TempDir())
	assert.ErrorIs(t, err, ErrNotDatastore)
	_, err = Open(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorIs(t, err, ErrNotDatastore)
	_, err = Open(t.TempDir(), WithSync(SyncLevel(42)))
	assert.Error(t, err)
	_, err = Open(t.TempDir(), WithClock(nil))
	assert.Error(t, err)
	_, err = Open(t.TempDir(), WithStaleAge(-time.Second))
	assert.Error(t, err)
	_, err = Open(t.TempDir(), WithName(""))
	assert.Error(t, err)
}

func TestInsertChunkRules(t *testing.T) {
	// The table of spec 7.1, one row per situation.
	tests := []struct {
		name       string
		existing   []byte // nil: no file; empty: a 0-byte file
		insert     []byte
		wantDup    bool
		wantErr    error
		wantStored []byte
	}{
		{"new chunk", nil, chunkTestBlob(BlobUncompressed, 10, 1), false, nil, chunkTestBlob(BlobUncompressed, 10, 1)},
		{"same length", chunkTestBlob(BlobUncompressed, 10, 1), chunkTestBlob(BlobUncompressed, 10, 2), true, nil, chunkTestBlob(BlobUncompressed, 10, 1)},
		{"existing empty", []byte{}, chunkTestBlob(BlobUncompressed, 10, 1), false, nil, chunkTestBlob(BlobUncompressed, 10, 1)},
		{"encrypted over unencrypted", chunkTestBlob(BlobCompressed, 5, 1), chunkTestBlob(BlobEncrypted, 10, 1), false, ErrChunkConflict, chunkTestBlob(BlobCompressed, 5, 1)},
		{"encrypted over uncompressed unencrypted", chunkTestBlob(BlobUncompressed, 5, 1), chunkTestBlob(BlobEncryptedCompressed, 10, 1), false, ErrChunkConflict, chunkTestBlob(BlobUncompressed, 5, 1)},
		{"encrypted uncompressed over encrypted uncompressed", chunkTestBlob(BlobEncrypted, 5, 1), chunkTestBlob(BlobEncrypted, 10, 1), false, ErrChunkConflict, chunkTestBlob(BlobEncrypted, 5, 1)},
		{"encrypted compressed over encrypted uncompressed", chunkTestBlob(BlobEncrypted, 5, 1), chunkTestBlob(BlobEncryptedCompressed, 10, 1), true, nil, chunkTestBlob(BlobEncrypted, 5, 1)},
		{"encrypted over encrypted compressed", chunkTestBlob(BlobEncryptedCompressed, 5, 1), chunkTestBlob(BlobEncrypted, 10, 1), true, nil, chunkTestBlob(BlobEncryptedCompressed, 5, 1)},
		{"encrypted over bigger encrypted compressed", chunkTestBlob(BlobEncryptedCompressed, 50, 1), chunkTestBlob(BlobEncryptedCompressed, 10, 1), true, nil, chunkTestBlob(BlobEncryptedCompressed, 50, 1)},
		{"unencrypted, existing smaller", chunkTestBlob(BlobCompressed, 5, 1), chunkTestBlob(BlobUncompressed, 10, 1), true, nil, chunkTestBlob(BlobCompressed, 5, 1)},
		{"unencrypted, existing larger", chunkTestBlob(BlobUncompressed, 50, 1), chunkTestBlob(BlobCompressed, 10, 1), false, nil, chunkTestBlob(BlobCompressed, 10, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &storeFakeClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
			s := storeNewTest(t, WithClock(clock.now))
			d := Digest{0xab, 0xcd, 0x01}
			path := s.ChunkPath(d)
			if tt.existing != nil {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, tt.existing, 0o644))
				require.NoError(t, lockSetAtime(path, clock.t.Add(-48*time.Hour)))
			}
			res, err := s.InsertChunk(d, tt.insert)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				var ce *ChunkError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, d, ce.Digest)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.wantDup, res.Duplicate)
				assert.Equal(t, int64(len(tt.wantStored)), res.Size)
			}
			stored, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tt.wantStored, stored)
			if tt.wantDup {
				fi, err := os.Stat(path)
				require.NoError(t, err)
				assert.True(t, clock.t.Equal(lockAtime(fi)), "a duplicate is touched")
			}
		})
	}
}

func TestInsertChunkRejectsBadBlobs(t *testing.T) {
	s := storeNewTest(t)
	d := Digest{1}
	_, err := s.InsertChunk(d, []byte("not a blob at all"))
	assert.ErrorIs(t, err, ErrBadMagic)
	blob := chunkTestBlob(BlobUncompressed, 10, 1)
	blob[len(blob)-1] ^= 1
	_, err = s.InsertChunk(d, blob)
	assert.ErrorIs(t, err, ErrChecksum)
	ok, err := s.HasChunk(d)
	require.NoError(t, err)
	assert.False(t, ok)
}

// TestInsertCheckedChunk: the same rules as InsertChunk, without the CRC
// pass; a blob passed with a wrong CRC is stored and Verify-style reads
// (GetChunk) report it.
func TestInsertCheckedChunk(t *testing.T) {
	s := storeNewTest(t)
	_, err := s.InsertCheckedChunk(Digest{1}, []byte("not a blob at all"))
	assert.ErrorIs(t, err, ErrBadMagic, "the header is still parsed")

	good := chunkTestBlob(BlobUncompressed, 10, 1)
	res, err := s.InsertCheckedChunk(Digest{2}, good)
	require.NoError(t, err)
	assert.Equal(t, InsertResult{Size: int64(len(good))}, res)
	res, err = s.InsertCheckedChunk(Digest{2}, good)
	require.NoError(t, err)
	assert.True(t, res.Duplicate)

	bad := chunkTestBlob(BlobUncompressed, 10, 1)
	bad[len(bad)-1] ^= 1
	_, err = s.InsertCheckedChunk(Digest{3}, bad)
	require.NoError(t, err)
	_, err = s.GetChunk(NewBlobDecoder(), nil, Digest{3}, false)
	assert.ErrorIs(t, err, ErrChecksum)
}

func TestReadAndGetChunk(t *testing.T) {
	s := storeNewTest(t)
	data := bytes.Repeat([]byte("chunk data "), 1000)
	d, _, err := s.InsertData(NewBlobEncoder(), data, true)
	require.NoError(t, err)
	assert.Equal(t, ComputeDigest(data), d)

	blob, err := s.ReadChunk(d)
	require.NoError(t, err)
	h, err := ParseBlobHeader(blob)
	require.NoError(t, err)
	assert.Equal(t, BlobCompressed, h.Kind)

	dec := NewBlobDecoder()
	got, err := s.GetChunk(dec, nil, d, true)
	require.NoError(t, err)
	assert.Equal(t, data, got)

	fi, err := s.StatChunk(d)
	require.NoError(t, err)
	assert.Equal(t, int64(len(blob)), fi.Size())

	// A chunk stored under the wrong digest reads fine without and fails
	// with verification.
	wrong := Digest{9, 9, 9}
	_, err = s.InsertChunk(wrong, blob)
	require.NoError(t, err)
	_, err = s.GetChunk(dec, nil, wrong, false)
	require.NoError(t, err)
	_, err = s.GetChunk(dec, nil, wrong, true)
	assert.ErrorIs(t, err, ErrDigestMismatch)

	// A corrupted file fails its CRC.
	require.NoError(t, os.WriteFile(s.ChunkPath(wrong), append(blob[:len(blob)-1:len(blob)-1], blob[len(blob)-1]^0xff), 0o644))
	_, err = s.ReadChunk(wrong)
	assert.ErrorIs(t, err, ErrChecksum)

	missing := Digest{7}
	_, err = s.ReadChunk(missing)
	assert.ErrorIs(t, err, ErrChunkNotFound)
	_, err = s.StatChunk(missing)
	assert.ErrorIs(t, err, ErrChunkNotFound)
	assert.ErrorIs(t, s.TouchChunk(missing), ErrChunkNotFound)
}

func TestTouchChunk(t *testing.T) {
	clock := &storeFakeClock{t: time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)}
	s := storeNewTest(t, WithClock(clock.now))
	d, _, err := s.InsertData(NewBlobEncoder(), []byte("touch me"), false)
	require.NoError(t, err)
	fi, err := os.Stat(s.ChunkPath(d))
	require.NoError(t, err)
	mtime := fi.ModTime()
	clock.advance(time.Hour)
	require.NoError(t, s.TouchChunk(d))
	fi, err = os.Stat(s.ChunkPath(d))
	require.NoError(t, err)
	assert.True(t, clock.t.Equal(lockAtime(fi)))
	assert.Equal(t, mtime, fi.ModTime(), "touch leaves mtime alone")
}

func TestConcurrentInsertSameChunk(t *testing.T) {
	s := storeNewTest(t)
	enc := NewBlobEncoder()
	data := storePRNG(99, 64<<10)
	blob, err := enc.Encode(nil, data, true)
	require.NoError(t, err)
	d := ComputeDigest(data)

	const n = 16
	var wg sync.WaitGroup
	results := make([]InsertResult, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.InsertChunk(d, blob)
		}()
	}
	wg.Wait()
	fresh := 0
	for i := range n {
		require.NoError(t, errs[i])
		if !results[i].Duplicate {
			fresh++
		}
	}
	assert.Equal(t, 1, fresh, "exactly one insert writes the file")
	got, err := s.GetChunk(NewBlobDecoder(), nil, d, true)
	require.NoError(t, err)
	assert.Equal(t, data, got)
	entries, err := os.ReadDir(filepath.Dir(s.ChunkPath(d)))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary files left")
}

func TestConcurrentInsertManyChunks(t *testing.T) {
	s := storeNewTest(t)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			enc := NewBlobEncoder()
			for i := range 50 {
				// Overlapping data between workers: every chunk is inserted
				// by two of them.
				_, _, err := s.InsertData(enc, storePRNG(uint64(1+(w/2)*1000+i), 512), true)
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	count := 0
	require.NoError(t, s.WalkChunks(context.Background(), func(ChunkInfo) error {
		count++
		return nil
	}))
	assert.Equal(t, 100, count)
}

func TestInterruptedInsertLeavesNothingVisible(t *testing.T) {
	clock := &storeFakeClock{t: time.Now()}
	s := storeNewTest(t, WithClock(clock.now))
	d := Digest{0x12, 0x34}
	// What a crash between create and rename leaves behind.
	dir := filepath.Dir(s.ChunkPath(d))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	tmp := s.ChunkPath(d) + chunkTempInfix + "123456"
	require.NoError(t, os.WriteFile(tmp, []byte("half a blo"), 0o644))

	// Reopen: nothing trips over it.
	s2, err := Open(s.Path(), WithClock(clock.now), WithSync(SyncNone))
	require.NoError(t, err)
	ok, err := s2.HasChunk(d)
	require.NoError(t, err)
	assert.False(t, ok)
	seen := 0
	require.NoError(t, s2.WalkChunks(context.Background(), func(ChunkInfo) error {
		seen++
		return nil
	}))
	assert.Zero(t, seen)

	// A later insert of the same digest works.
	blob := chunkTestBlob(BlobUncompressed, 10, 1)
	_, err = s2.InsertChunk(d, blob)
	require.NoError(t, err)

	// GC keeps the fresh temporary file, and removes it once stale.
	_, err = s2.GarbageCollect(context.Background(), GCOptions{})
	require.NoError(t, err)
	assert.FileExists(t, tmp)
	clock.advance(2 * DefaultStaleAge)
	rep, err := s2.GarbageCollect(context.Background(), GCOptions{})
	require.NoError(t, err)
	assert.NoFileExists(t, tmp)
	assert.Equal(t, 1, rep.RemovedTemp)
}

func TestParseChunkFileName(t *testing.T) {
	hex := "0e740a7e86667da16c2cad578ebcc6a8e13df6689a781e2f4c4ba5c95bbf6f1c"
	tests := []struct {
		name    string
		ok, bad bool
	}{
		{hex, true, false},
		{hex + ".0.bad", true, true},
		{hex + ".9.bad", true, true},
		{hex + ".x.bad", false, false},
		{hex + ".10.bad", false, false},
		{hex + ".tmp_123456", false, false},
		{hex + "abcdef", false, false},
		{hex[:63], false, false},
		{"0E740A7E86667DA16C2CAD578EBCC6A8E13DF6689A781E2F4C4BA5C95BBF6F1C", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		d, bad, ok := ParseChunkFileName(tt.name)
		assert.Equal(t, tt.ok, ok, tt.name)
		assert.Equal(t, tt.bad, bad, tt.name)
		if ok {
			assert.Equal(t, hex, d.String())
		}
	}
}

func TestWalkChunksReportsBad(t *testing.T) {
	s := storeNewTest(t)
	d, _, err := s.InsertData(NewBlobEncoder(), []byte("soon bad"), false)
	require.NoError(t, err)
	to, err := s.renameCorruptChunk(d)
	require.NoError(t, err)
	assert.Equal(t, s.ChunkPath(d)+".0.bad", to)
	var infos []ChunkInfo
	require.NoError(t, s.WalkChunks(context.Background(), func(c ChunkInfo) error {
		infos = append(infos, c)
		return nil
	}))
	require.Len(t, infos, 1)
	assert.True(t, infos[0].Bad)
	assert.Equal(t, d, infos[0].Digest)

	stop := errors.New("stop")
	assert.ErrorIs(t, s.WalkChunks(context.Background(), func(ChunkInfo) error { return stop }), stop)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, s.WalkChunks(ctx, func(ChunkInfo) error { return nil }), context.Canceled)
}

func TestRenameCorruptChunkNumbers(t *testing.T) {
	s := storeNewTest(t)
	enc := NewBlobEncoder()
	var d Digest
	var err error
	for i := range 11 {
		d, _, err = s.InsertData(enc, []byte("bad again"), false)
		require.NoError(t, err)
		to, err := s.renameCorruptChunk(d)
		require.NoError(t, err)
		want := min(i, 9)
		assert.Equal(t, s.badChunkPath(d, want), to)
	}
	// Already gone: not an error.
	to, err := s.renameCorruptChunk(d)
	require.NoError(t, err)
	assert.Empty(t, to)
}
