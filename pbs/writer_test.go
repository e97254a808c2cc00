package pbs_test

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
)

// The low-level writer: callers cut and hash chunks themselves, append
// data or digests the server knows, and close.
func TestArchiveWriterLowLevel(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	piece := randomData(110, 100<<10)
	s := e.start("low")
	w, err := s.CreateDynamicArchive(ctx, "custom.bin")
	require.NoError(t, err)
	assert.Equal(t, "custom.bin.didx", w.Name())
	var want []byte
	for i := range 5 {
		chunk := randomData(uint64(111+i), 50<<10+i)
		require.NoError(t, w.AppendData(ctx, chunk))
		want = append(want, chunk...)
	}
	require.NoError(t, w.AppendData(ctx, piece))
	require.NoError(t, w.AppendKnown(ctx, sha256.Sum256(piece)), "uploaded earlier in this session")
	want = append(want, piece...)
	want = append(want, piece...)
	assert.EqualValues(t, len(want), w.Offset())

	err = w.AppendKnown(ctx, datastore.ComputeDigest([]byte("never uploaded")))
	assert.ErrorIs(t, err, pbs.ErrUnknownChunk)
	assert.Error(t, w.AppendData(ctx, nil), "empty chunks are refused")

	_, err = s.Finish(ctx)
	assert.ErrorContains(t, err, "custom.bin.didx", "no finish while a writer is open")

	res, err := w.Close(ctx)
	require.NoError(t, err, "the refusals above left the session intact")
	assert.EqualValues(t, 7, res.Stats.Chunks)
	assert.EqualValues(t, 1, res.Stats.ReusedChunks)
	_, err = w.Close(ctx)
	assert.Error(t, err)
	fin, err := s.Finish(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, e.restore(fin.Snapshot, "custom.bin"))

	// A later session registers the previous index and appends its chunks
	// by digest into a new archive, without uploading anything.
	s = e.start("low")
	n, err := s.RegisterPrevious(ctx, "custom.bin.didx")
	require.NoError(t, err)
	assert.Equal(t, 7, n)
	_, err = s.RegisterPrevious(ctx, "missing.didx")
	assert.ErrorIs(t, err, pbs.ErrNotInManifest)
	dx, err := e.store().OpenDynamicIndex(datastore.Namespace{}, fin.Snapshot, "custom.bin.didx")
	require.NoError(t, err)
	w, err = s.CreateDynamicArchive(ctx, "copy.didx", pbs.WithoutReuse())
	require.NoError(t, err)
	for i := range dx.Count() {
		_, _, d := dx.Entry(i)
		require.NoError(t, w.AppendKnown(ctx, d))
	}
	res, err = w.Close(ctx)
	require.NoError(t, err)
	assert.Zero(t, res.Stats.NewChunks)
	fin, err = s.Finish(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, e.restore(fin.Snapshot, "copy"))
}

// Fixed writers refuse chunks PBS would refuse, before sending them.
func TestArchiveWriterFixedRules(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	s := e.start("fixed")
	size := int64(2*(4<<20) + 10)
	w, err := s.CreateFixedArchive(ctx, "vm.img", size)
	require.NoError(t, err)
	assert.Error(t, w.AppendData(ctx, make([]byte, 1000)), "only the last chunk may be short")
	assert.Error(t, w.AppendData(ctx, make([]byte, 5<<20)), "at most 4 MiB")
	require.NoError(t, w.AppendData(ctx, randomData(120, 4<<20)))
	require.NoError(t, w.AppendData(ctx, make([]byte, 4<<20)))
	assert.Error(t, w.AppendData(ctx, make([]byte, 11)), "past the image size")
	require.NoError(t, w.AppendData(ctx, randomData(121, 10)))
	res, err := w.Close(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, size, res.File.Size)
	_, err = s.Finish(ctx)
	require.NoError(t, err)

	_, err = e.start("fixed2").CreateFixedArchive(ctx, "empty.img", 0)
	assert.Error(t, err)

	// A fixed archive closed with a chunk missing is refused by the client
	// (the server would refuse the count) and aborts the session.
	s = e.start("fixed3")
	w, err = s.CreateFixedArchive(ctx, "vm.img", size)
	require.NoError(t, err)
	require.NoError(t, w.AppendData(ctx, randomData(122, 4<<20)))
	_, err = w.Close(ctx)
	assert.ErrorContains(t, err, "never appended")
	_, err = s.Finish(ctx)
	assert.ErrorIs(t, err, pbs.ErrSessionFailed)
}

// Refusals that need no server leave the session usable.
func TestBackupClientSideRefusals(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	s := e.start("refuse")
	_, err := s.Finish(ctx)
	assert.ErrorIs(t, err, pbs.ErrNothingToFinish)
	_, err = s.UploadStream(ctx, "empty.pxar", bytes.NewReader(nil))
	assert.ErrorIs(t, err, pbs.ErrEmptyArchive)
	_, err = s.UploadBlob(ctx, "index.json", []byte("{}"))
	assert.Error(t, err, "the manifest name is Finish's")
	_, err = s.UploadStream(ctx, "bad/name", bytes.NewReader([]byte("x")))
	assert.Error(t, err)
	_, err = s.UploadImage(ctx, "a.img", bytes.NewReader(nil), 0)
	assert.Error(t, err)
	_, err = s.UploadBlob(ctx, "big.conf", randomData(123, pbs.MaxBlobSize))
	assert.Error(t, err, "an incompressible 16 MiB blob is too large")
	_, err = s.UploadStream(ctx, "x.pxar", bytes.NewReader([]byte("x")), pbs.WithAverageChunkSize(1000))
	assert.Error(t, err)

	_, err = s.UploadBlob(ctx, "a.conf", []byte("a"))
	require.NoError(t, err)
	_, err = s.UploadBlob(ctx, "a.conf", []byte("b"))
	assert.ErrorContains(t, err, "already part of this backup")
	_, err = s.UploadStream(ctx, "one.pxar", bytes.NewReader([]byte("one")))
	require.NoError(t, err)
	res, err := s.Finish(ctx)
	require.NoError(t, err)
	assert.Len(t, res.Manifest.Files, 2)
	assert.Equal(t, []byte("one"), e.restore(res.Snapshot, "one.pxar"))

	_, err = e.c.StartBackup(ctx, pbs.BackupOptions{Type: datastore.TypeHost, ID: "x"})
	assert.Error(t, err, "datastore required")
	_, err = e.c.StartBackup(ctx, pbs.BackupOptions{Datastore: e.srv.Datastore, Type: "bad", ID: "x"})
	assert.Error(t, err)
	_, err = e.c.StartBackup(ctx, pbs.BackupOptions{Datastore: e.srv.Datastore, Type: datastore.TypeHost, ID: "refuse", Time: res.Snapshot.Time})
	var perr *pbs.Error
	require.ErrorAs(t, err, &perr, "not newer than the last snapshot: the server refuses")
	assert.Contains(t, perr.Message, "older")
}

// Images from files are read concurrently; zero chunks are found without
// hashing and uploaded once; a file shorter than its size fails.
func TestUploadImageFromFileAndZeroChunks(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	image := make([]byte, 5*(4<<20)+3)
	copy(image[4<<20:], randomData(130, 4<<20))
	copy(image[5*(4<<20):], "end")
	path := filepath.Join(t.TempDir(), "disk.raw")
	require.NoError(t, os.WriteFile(path, image, 0o600))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()

	s := e.start("image")
	res, err := s.UploadImage(ctx, "drive-scsi0.img", f, int64(len(image)))
	require.NoError(t, err)
	assert.EqualValues(t, 6, res.Stats.Chunks)
	assert.EqualValues(t, 3, res.Stats.NewChunks, "the zero chunk, one data chunk, the tail")
	assert.EqualValues(t, 3, res.Stats.ReusedChunks, "three more zero chunks")
	fin, err := s.Finish(ctx)
	require.NoError(t, err)
	assert.Equal(t, image, e.restore(fin.Snapshot, "drive-scsi0.img"))
	ix, err := e.store().OpenFixedIndex(datastore.Namespace{}, fin.Snapshot, "drive-scsi0.img.fidx")
	require.NoError(t, err)
	zero := datastore.ComputeDigest(make([]byte, 4<<20))
	for _, i := range []int{0, 2, 3, 4} {
		assert.Equal(t, zero, ix.Digest(i))
	}

	s = e.start("image")
	_, err = s.UploadImage(ctx, "short.img", f, int64(len(image))+1)
	require.Error(t, err)
	assert.ErrorContains(t, err, "image ends at")
	s = e.start("image2")
	_, err = s.UploadImage(ctx, "short.img", bytes.NewBuffer(image[:100]), 200)
	assert.ErrorContains(t, err, "image ends at 100 bytes")
}

// With a dirty map, an image backup sends only the changed chunks into a
// copy of the previous index (reuse-csum), as Proxmox VE's dirty bitmaps
// do; without a previous image of the same size it uploads everything.
func TestUploadImageDirtyChunks(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	image := randomData(140, 6*(4<<20)+99)
	all := func(int) bool { return true }

	s := e.start("dirty")
	res, err := s.UploadImage(ctx, "disk.img", bytes.NewReader(image), int64(len(image)), pbs.WithDirtyChunks(all))
	require.NoError(t, err)
	assert.EqualValues(t, 7, res.Stats.Chunks, "no previous snapshot: a full upload")
	_, err = s.Finish(ctx)
	require.NoError(t, err)
	e.settle()

	changed := bytes.Clone(image)
	copy(changed[2*(4<<20)+5:], "changed")
	copy(changed[6*(4<<20):], "tail changed")
	dirty := func(i int) bool { return i == 2 || i == 6 }
	var log callLog
	lctx := log.ctx(ctx)
	s, err = e.c.StartBackup(lctx, e.opts("dirty"))
	require.NoError(t, err)
	res, err = s.UploadImage(lctx, "disk.img", bytes.NewReader(changed), int64(len(changed)), pbs.WithDirtyChunks(dirty))
	require.NoError(t, err)
	assert.EqualValues(t, 2, res.Stats.Chunks, "only the dirty chunks are appended")
	assert.EqualValues(t, 2, res.Stats.NewChunks)
	assert.EqualValues(t, len(changed), res.File.Size)
	fin, err := s.Finish(lctx)
	require.NoError(t, err)
	reused := false
	for _, ev := range log.all() {
		if ev.Path == "/fixed_index" && ev.Method == "POST" && !ev.Done {
			reused = ev.Query.Get("reuse-csum") != ""
		}
	}
	assert.True(t, reused, "the writer was opened with reuse-csum")
	assert.Equal(t, changed, e.restore(fin.Snapshot, "disk.img"))

	_, err = e.start("dirty2").UploadImage(ctx, "x.img", bytes.NewBuffer(image), int64(len(image)), pbs.WithDirtyChunks(all))
	assert.ErrorContains(t, err, "io.ReaderAt")
}

// Progress reports grow monotonically to the totals of the session.
func TestBackupProgress(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	var mu sync.Mutex
	var reports []pbs.Progress
	s := e.start("progress", func(o *pbs.BackupOptions) {
		o.Progress = func(p pbs.Progress) {
			mu.Lock()
			defer mu.Unlock()
			reports = append(reports, p)
		}
	})
	data := randomData(150, 2<<20)
	_, err := s.UploadStream(ctx, "a.pxar", bytes.NewReader(data), pbs.WithAverageChunkSize(64<<10))
	require.NoError(t, err)
	_, err = s.UploadBlob(ctx, "b.conf", []byte("conf"))
	require.NoError(t, err)
	res, err := s.Finish(ctx)
	require.NoError(t, err)

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, reports)
	for i := 1; i < len(reports); i++ {
		assert.GreaterOrEqual(t, reports[i].BytesRead, reports[i-1].BytesRead)
		assert.GreaterOrEqual(t, reports[i].NewChunks, reports[i-1].NewChunks)
		assert.GreaterOrEqual(t, reports[i].UploadedBytes, reports[i-1].UploadedBytes)
	}
	last := reports[len(reports)-1]
	assert.EqualValues(t, len(data)+4, last.BytesRead)
	assert.Equal(t, res.Stats.NewChunks, last.NewChunks)
	assert.Equal(t, res.Stats.UploadedBytes, last.UploadedBytes)
	assert.Positive(t, res.Stats.Duration)
}

// Several archives of one session can be uploaded concurrently.
func TestBackupConcurrentArchives(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	s := e.start("concurrent")
	inputs := map[string][]byte{}
	for i := range 4 {
		inputs["part"+string(rune('a'+i))+".pxar"] = randomData(uint64(160+i%2), 3<<20) // pairs share content
	}
	var wg sync.WaitGroup
	for name, data := range inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UploadStream(ctx, name, bytes.NewReader(data), pbs.WithAverageChunkSize(256<<10))
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	res, err := s.Finish(ctx)
	require.NoError(t, err)
	assert.Len(t, res.Manifest.Files, 4)
	for name, data := range inputs {
		assert.Equal(t, data, e.restore(res.Snapshot, name))
	}
}
