package pbs_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
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
