package datastore

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// verifySetup writes a snapshot with a fixed and a dynamic index and a blob
// and returns the store, the snapshot and the fixed index's digests.
func verifySetup(t *testing.T) (*Store, Snapshot, *Manifest) {
	t.Helper()
	s := storeNewTest(t)
	snap := storeSnap(t, "vm/300/2024-02-02T02:02:02Z")
	m := storeWrite(t, s, Namespace{}, snap, "root@pam",
		storeTestArchive{name: "disk.img.fidx", data: storePRNG(3, 2*FixedChunkSize+100)},
		storeTestArchive{name: "root.pxar.didx", data: storePRNG(4, 50000), chunk: 20000},
		storeTestArchive{name: "vm.conf.blob", data: []byte("conf")})
	return s, snap, m
}

func TestVerifyGood(t *testing.T) {
	ctx := context.Background()
	s, snap, _ := verifySetup(t)
	res, err := s.Verify(ctx, Namespace{}, snap, VerifyOptions{UPID: "UPID:test:verify"})
	require.NoError(t, err)
	assert.True(t, res.OK())
	assert.Equal(t, VerifyStateOK, res.State)
	assert.Equal(t, 3+3, res.Chunks)
	assert.Positive(t, res.BytesRead)
	m, _, err := s.ReadManifest(Namespace{}, snap)
	require.NoError(t, err)
	assert.Equal(t, &VerifyState{UPID: "UPID:test:verify", State: VerifyStateOK}, m.Unprotected.VerifyState)

	// A generated UPID has PBS's shape.
	res, err = s.Verify(ctx, Namespace{}, snap, VerifyOptions{NoUpdate: true})
	require.NoError(t, err)
	assert.Regexp(t, `^UPID:localhost:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:verify:[^:\s]*:root@pam:$`, res.UPID)
}

func TestVerifyCorruptAndMissingChunks(t *testing.T) {
	ctx := context.Background()
	s, snap, _ := verifySetup(t)
	ix, err := s.OpenFixedIndex(Namespace{}, snap, "disk.img.fidx")
	require.NoError(t, err)
	corrupt, missing := ix.Digest(1), ix.Digest(2)
	require.NoError(t, ix.Close())

	// Flip a payload byte: the CRC no longer matches.
	path := s.ChunkPath(corrupt)
	blob, err := os.ReadFile(path)
	require.NoError(t, err)
	blob[len(blob)/2] ^= 0x55
	require.NoError(t, os.WriteFile(path, blob, 0o644))
	require.NoError(t, os.Remove(s.ChunkPath(missing)))

	res, err := s.Verify(ctx, Namespace{}, snap, VerifyOptions{RenameCorrupt: true})
	require.NoError(t, err)
	assert.Equal(t, VerifyStateFailed, res.State)
	require.Len(t, res.Errors, 2)
	var e1, e2 *VerifyError
	require.ErrorAs(t, res.Errors[0], &e1)
	require.ErrorAs(t, res.Errors[1], &e2)
	assert.Equal(t, "disk.img.fidx", e1.Archive)
	assert.Equal(t, 1, e1.Index)
	assert.Equal(t, uint64(FixedChunkSize), e1.Offset)
	assert.Equal(t, corrupt, e1.Digest)
	assert.ErrorIs(t, e1, ErrChecksum)
	assert.ErrorIs(t, e1, ErrVerify)
	assert.Equal(t, 2, e2.Index)
	assert.Equal(t, uint64(2*FixedChunkSize), e2.Offset)
	assert.ErrorIs(t, e2, ErrChunkNotFound)
	assert.Contains(t, e1.Error(), corrupt.String())

	assert.Equal(t, []string{s.ChunkPath(corrupt) + ".0.bad"}, res.Renamed)
	assert.NoFileExists(t, s.ChunkPath(corrupt))
	assert.FileExists(t, s.ChunkPath(corrupt)+".0.bad")

	m, _, err := s.ReadManifest(Namespace{}, snap)
	require.NoError(t, err)
	assert.Equal(t, VerifyStateFailed, m.Unprotected.VerifyState.State)
	// A failed snapshot is no base for the next backup.
	_, ok, err := s.LastFinishedSnapshot(Namespace{}, snap.Group)
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestVerifyWrongContent(t *testing.T) {
	ctx := context.Background()
	s, snap, _ := verifySetup(t)
	ix, err := s.OpenDynamicIndex(Namespace{}, snap, "root.pxar.didx")
	require.NoError(t, err)
	_, _, d := ix.Entry(0)
	require.NoError(t, ix.Close())
	// A valid blob (good CRC) with other data: wrong digest and length.
	other, err := NewBlobEncoder().Encode(nil, []byte("something else"), false)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(s.ChunkPath(d), other, 0o644))

	cache := NewVerifyCache()
	res, err := s.Verify(ctx, Namespace{}, snap, VerifyOptions{Cache: cache, NoUpdate: true})
	require.NoError(t, err)
	require.Len(t, res.Errors, 1)
	var ve *VerifyError
	require.ErrorAs(t, res.Errors[0], &ve)
	assert.Equal(t, "root.pxar.didx", ve.Archive)
	assert.Equal(t, 0, ve.Index)
	assert.True(t, errors.Is(ve, ErrSizeMismatch) || errors.Is(ve, ErrDigestMismatch), "%v", ve)
	assert.FileExists(t, s.ChunkPath(d), "not renamed without RenameCorrupt")

	// The cache remembers the verdict for the next snapshot.
	res, err = s.Verify(ctx, Namespace{}, snap, VerifyOptions{Cache: cache, NoUpdate: true})
	require.NoError(t, err)
	assert.Len(t, res.Errors, 1)
	assert.Zero(t, res.BytesRead, "every chunk came from the cache")
}

func TestVerifyManifestMismatch(t *testing.T) {
	ctx := context.Background()
	s, snap, _ := verifySetup(t)
	require.NoError(t, s.UpdateManifest(ctx, Namespace{}, snap, func(m *Manifest) error {
		m.Files[0].Size++                          // disk.img.fidx
		m.Files[1].Csum = Digest{1, 2, 3}.String() // root.pxar.didx
		m.Files[2].Size++                          // vm.conf.blob
		m.Files = append(m.Files, ManifestFile{Filename: "gone.blob", CryptMode: CryptNone, Size: 1, Csum: Digest{}.String()})
		return nil
	}))
	res, err := s.Verify(ctx, Namespace{}, snap, VerifyOptions{NoUpdate: true})
	require.NoError(t, err)
	require.Len(t, res.Errors, 4)
	for i, want := range []error{ErrSizeMismatch, ErrChecksum, ErrSizeMismatch, os.ErrNotExist} {
		var ve *VerifyError
		require.ErrorAs(t, res.Errors[i], &ve)
		assert.Equal(t, -1, ve.Index)
		assert.ErrorIs(t, ve, want, ve.Error())
	}
	assert.Zero(t, res.Chunks, "chunks of mismatching indexes are not read")
}

func TestVerifyCryptModeMismatchIsNotCorruption(t *testing.T) {
	ctx := context.Background()
	s, snap, _ := verifySetup(t)
	require.NoError(t, s.UpdateManifest(ctx, Namespace{}, snap, func(m *Manifest) error {
		m.Files[1].CryptMode = CryptEncrypt
		return nil
	}))
	res, err := s.Verify(ctx, Namespace{}, snap, VerifyOptions{RenameCorrupt: true, NoUpdate: true})
	require.NoError(t, err)
	assert.Len(t, res.Errors, 3, "one per chunk of the archive")
	assert.Empty(t, res.Renamed)
}

func TestVerifyPreconditions(t *testing.T) {
	ctx := context.Background()
	s, snap, _ := verifySetup(t)
	lock, err := s.LockSnapshot(Namespace{}, snap, true)
	require.NoError(t, err)
	_, err = s.Verify(ctx, Namespace{}, snap, VerifyOptions{})
	assert.ErrorIs(t, err, ErrLocked)
	require.NoError(t, lock.Unlock())

	partial := storeSnap(t, "vm/300/2024-02-03T00:00:00Z")
	require.NoError(t, os.MkdirAll(s.SnapshotPath(Namespace{}, partial), 0o755))
	_, err = s.Verify(ctx, Namespace{}, partial, VerifyOptions{})
	assert.ErrorIs(t, err, ErrNotFinished)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.Verify(cancelled, Namespace{}, snap, VerifyOptions{})
	assert.ErrorIs(t, err, context.Canceled)
}
