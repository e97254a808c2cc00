package pbs_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
)

// A stream, an image and a blob go in; the snapshot is visible only after
// Finish; everything comes back byte for byte and the datastore verifies.
func TestBackupStreamImageBlobRoundTrip(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	stream := append(randomData(1, 9<<20), textData(2, 3<<20)...)
	image := randomData(3, 10<<20+12345)
	copy(image[4<<20:], make([]byte, 4<<20)) // one zero chunk
	conf := []byte("memory: 2048\ncores: 2\n")

	s := e.start("roundtrip")
	rs, err := s.UploadStream(ctx, "root.pxar", bytes.NewReader(stream))
	require.NoError(t, err)
	assert.Equal(t, "root.pxar.didx", rs.File.Filename)
	assert.EqualValues(t, len(stream), rs.File.Size)
	ri, err := s.UploadImage(ctx, "disk.img", bytes.NewReader(image), int64(len(image)))
	require.NoError(t, err)
	assert.Equal(t, "disk.img.fidx", ri.File.Filename)
	assert.EqualValues(t, 3, ri.Stats.Chunks)
	rb, err := s.UploadBlob(ctx, "qemu-server.conf", conf)
	require.NoError(t, err)
	assert.Equal(t, "qemu-server.conf.blob", rb.File.Filename)

	assert.Empty(t, e.listNow("roundtrip"), "nothing visible before finish")
	res, err := s.Finish(ctx)
	require.NoError(t, err)
	require.Len(t, res.Manifest.Files, 3)

	items := e.snapshots("roundtrip")
	require.Len(t, items, 1)
	assert.True(t, items[0].Finished)
	snap := s.Snapshot()
	assert.Equal(t, stream, e.restore(snap, "root.pxar"))
	assert.Equal(t, image, e.restore(snap, "disk.img.fidx"))
	assert.Equal(t, conf, e.restore(snap, "qemu-server.conf.blob"))

	vr, err := e.store().Verify(ctx, datastore.Namespace{}, snap, datastore.VerifyOptions{NoUpdate: true})
	require.NoError(t, err)
	assert.True(t, vr.OK(), "%v", vr.Errors)
}

// A second backup of unchanged data uploads no chunk: the previous
// snapshot's manifest and indexes are downloaded and their chunks
// appended by digest. A changed region costs only the chunks around it.
func TestBackupIncrementalReusesChunks(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	stream := randomData(10, 8<<20)
	image := randomData(11, 3*(4<<20)+100)

	backup := func(stream, image []byte) *pbs.BackupResult {
		s := e.start("incr")
		_, err := s.UploadStream(ctx, "root.pxar", bytes.NewReader(stream), pbs.WithAverageChunkSize(1<<20))
		require.NoError(t, err)
		_, err = s.UploadImage(ctx, "disk.img", bytes.NewReader(image), int64(len(image)))
		require.NoError(t, err)
		res, err := s.Finish(ctx)
		require.NoError(t, err)
		e.settle()
		return res
	}

	first := backup(stream, image)
	assert.Zero(t, first.Stats.ReusedChunks)
	assert.Equal(t, first.Stats.Chunks, first.Stats.NewChunks)
	assert.EqualValues(t, len(stream)+len(image), first.Stats.Bytes)

	second := backup(stream, image)
	assert.Zero(t, second.Stats.NewChunks, "nothing uploaded for unchanged data")
	assert.Zero(t, second.Stats.UploadedBytes)
	assert.Equal(t, first.Stats.Chunks, second.Stats.ReusedChunks)
	assert.Equal(t, first.Manifest.Files, second.Manifest.Files, "same checksums and sizes")

	changed := bytes.Clone(stream)
	copy(changed[5<<20:], randomData(12, 1000))
	changedImage := bytes.Clone(image)
	changedImage[len(image)-1] ^= 0xff // the tail chunk
	third := backup(changed, changedImage)
	assert.Positive(t, third.Stats.NewChunks)
	assert.LessOrEqual(t, third.Stats.NewChunks, int64(4), "a local change touches few chunks")
	assert.Positive(t, third.Stats.ReusedChunks)

	assert.Equal(t, stream, e.restore(second.Snapshot, "root.pxar"))
	assert.Equal(t, changed, e.restore(third.Snapshot, "root.pxar"))
	assert.Equal(t, changedImage, e.restore(third.Snapshot, "disk.img"))
	assert.Equal(t, image, e.restore(first.Snapshot, "disk.img"))
}

// Chunks of the previous snapshot are only reused for the archive of the
// same name, whose index was downloaded with "previous" in the session
// (pitfall 4): a new name uploads its chunks again (the store keeps one
// copy), and the backup still succeeds.
func TestBackupReuseOnlyThroughPreviousIndex(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	data := randomData(20, 9<<20)
	e.backupOne("rename", "a.pxar", data)

	s := e.start("rename")
	res, err := s.UploadStream(ctx, "b.pxar", bytes.NewReader(data))
	require.NoError(t, err)
	assert.Zero(t, res.Stats.ReusedChunks)
	assert.Equal(t, res.Stats.Chunks, res.Stats.NewChunks)
	_, err = s.Finish(ctx)
	require.NoError(t, err)
	assert.Equal(t, data, e.restore(s.Snapshot(), "b.pxar"))
}

// Within one session a chunk is uploaded once, even when it occurs in two
// archives or twice in one.
func TestBackupDeduplicatesWithinSession(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	block := randomData(30, 4<<20)
	image := append(append(bytes.Clone(block), block...), block...) // three equal chunks
	s := e.start("dedup")
	r1, err := s.UploadImage(ctx, "one.img", bytes.NewReader(image), int64(len(image)))
	require.NoError(t, err)
	assert.EqualValues(t, 1, r1.Stats.NewChunks)
	assert.EqualValues(t, 2, r1.Stats.ReusedChunks)
	r2, err := s.UploadImage(ctx, "two.img", bytes.NewReader(image), int64(len(image)))
	require.NoError(t, err)
	assert.Zero(t, r2.Stats.NewChunks)
	assert.EqualValues(t, 3, r2.Stats.ReusedChunks)
	res, err := s.Finish(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, res.Stats.NewChunks)
	assert.EqualValues(t, 5, res.Stats.ReusedChunks)
	assert.Equal(t, image, e.restore(s.Snapshot(), "two.img"))
}
