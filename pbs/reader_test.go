package pbs_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
)

// readerFixture backs up a stream, an image and a blob and returns the
// finished snapshot with its data.
type readerFixture struct {
	e      *bkEnv
	snap   datastore.Snapshot
	stream []byte
	image  []byte
	conf   []byte
}

func newReaderFixture(t *testing.T) *readerFixture {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	f := &readerFixture{e: e, stream: randomData(100, 3<<20), image: randomData(101, 3*(4<<20)+5), conf: []byte("a: b\n")}
	copy(f.image[4<<20:], make([]byte, 8<<20)) // two zero chunks
	s := e.start("reader")
	_, err := s.UploadStream(ctx, "root.pxar", bytes.NewReader(f.stream), pbs.WithAverageChunkSize(64<<10))
	require.NoError(t, err)
	_, err = s.UploadImage(ctx, "disk.img", bytes.NewReader(f.image), int64(len(f.image)))
	require.NoError(t, err)
	_, err = s.UploadBlob(ctx, "app.conf", f.conf)
	require.NoError(t, err)
	res, err := s.Finish(ctx)
	require.NoError(t, err)
	e.settle()
	f.snap = res.Snapshot
	return f
}

func (f *readerFixture) open(t *testing.T) *pbs.ReaderSession {
	t.Helper()
	r, err := f.e.c.StartReader(bkCtx(t), readerOpts(f.e, f.snap))
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// Random access over a fixed image and a dynamic stream, names with or
// without their extensions, blobs checked against the manifest.
func TestReaderRandomAccessAndNames(t *testing.T) {
	f := newReaderFixture(t)
	r := f.open(t)
	ctx := bkCtx(t)
	assert.Equal(t, f.snap, r.Snapshot())
	require.Len(t, r.Manifest().Files, 3)

	for name, want := range map[string][]byte{"disk.img": f.image, "root.pxar.didx": f.stream} {
		a, err := r.OpenArchive(ctx, name)
		require.NoError(t, err)
		assert.EqualValues(t, len(want), a.Size())
		rnd := rand.New(rand.NewPCG(3, 4))
		for range 40 {
			off := rnd.IntN(len(want))
			p := make([]byte, rnd.IntN(5<<20))
			n, err := a.ReadAt(p, int64(off))
			if off+len(p) > len(want) {
				assert.ErrorIs(t, err, io.EOF)
			} else {
				require.NoError(t, err)
			}
			require.True(t, bytes.Equal(want[off:off+n], p[:n]), "%s ReadAt(%d, %d)", name, off, len(p))
		}
		var _ io.ReaderAt = a
		got, err := io.ReadAll(io.NewSectionReader(a, 0, a.Size()))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want, got))
	}

	conf, err := r.DownloadBlob(ctx, "app.conf")
	require.NoError(t, err)
	assert.Equal(t, f.conf, conf)
	var buf bytes.Buffer
	_, err = r.RestoreArchive(ctx, "app.conf.blob", &buf)
	require.NoError(t, err)
	assert.Equal(t, f.conf, buf.Bytes())

	_, err = r.OpenArchive(ctx, "nope.img")
	assert.ErrorIs(t, err, pbs.ErrNotInManifest)
	_, err = r.DownloadBlob(ctx, "disk.img.fidx")
	assert.Error(t, err)
}

// One flipped byte in one chunk file of the datastore: the restore fails
// with an *IntegrityError naming that chunk (number, offset, digest).
func TestReaderFlippedByteInDatastore(t *testing.T) {
	f := newReaderFixture(t)
	st := f.e.store()
	ix, err := st.OpenFixedIndex(datastore.Namespace{}, f.snap, "disk.img.fidx")
	require.NoError(t, err)
	bad := ix.Digest(3) // the tail chunk, after two zero chunks
	path := st.ChunkPath(bad)
	blob, err := os.ReadFile(path)
	require.NoError(t, err)
	blob[len(blob)-1] ^= 0x80
	require.NoError(t, os.WriteFile(path, blob, 0o644))

	r := f.open(t)
	var buf bytes.Buffer
	n, err := r.RestoreArchive(bkCtx(t), "disk.img", &buf)
	require.Error(t, err)
	t.Logf("error: %v", err)
	var ie *pbs.IntegrityError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "disk.img.fidx", ie.Archive)
	assert.Equal(t, 3, ie.Chunk)
	assert.EqualValues(t, 12<<20, ie.Offset)
	assert.Equal(t, bad, ie.Digest)
	assert.ErrorIs(t, err, pbs.ErrIntegrity)
	assert.Contains(t, err.Error(), bad.String())
	assert.EqualValues(t, 12<<20, n)
	assert.Equal(t, f.image[:12<<20], buf.Bytes(), "everything before the bad chunk is right")

	// The stream's chunks are untouched and still restore.
	var s bytes.Buffer
	_, err = r.RestoreArchive(bkCtx(t), "root.pxar", &s)
	require.NoError(t, err)
	assert.Equal(t, f.stream, s.Bytes())
}

// The reader downloads an index before fetching its chunks (pitfall 13),
// fetches each digest once (the image's two zero chunks are one digest),
// and asks for nothing the manifest does not list.
func TestReaderWireOrder(t *testing.T) {
	f := newReaderFixture(t)
	var log callLog
	ctx := log.ctx(bkCtx(t))
	r, err := f.e.c.StartReader(ctx, readerOpts(f.e, f.snap))
	require.NoError(t, err)
	defer r.Close()
	_, err = r.RestoreArchive(ctx, "disk.img", io.Discard)
	require.NoError(t, err)

	var downloads []string
	chunks := map[string]int{}
	for _, ev := range log.all() {
		if ev.Done {
			continue
		}
		switch ev.Path {
		case "/download":
			downloads = append(downloads, ev.Query.Get("file-name"))
		case "/chunk":
			assert.Equal(t, []string{"index.json.blob", "disk.img.fidx"}, downloads, "index first")
			chunks[ev.Query.Get("digest")]++
		default:
			t.Errorf("unexpected call %s %s", ev.Method, ev.Path)
		}
	}
	assert.Len(t, chunks, 3, "four chunks, two of them zero")
	for d, n := range chunks {
		assert.Equal(t, 1, n, "chunk %s fetched once", d)
	}
}

// Opening a snapshot that does not exist is the server's refusal.
func TestReaderMissingSnapshot(t *testing.T) {
	e := newBkEnv(t)
	_, err := e.c.StartReader(bkCtx(t), pbs.ReaderOptions{Datastore: e.srv.Datastore, Snapshot: datastore.Snapshot{
		Group: datastore.Group{Type: datastore.TypeHost, ID: "none"}, Time: time.Unix(1700000000, 0).UTC()}})
	require.Error(t, err)
	var perr *pbs.Error
	require.ErrorAs(t, err, &perr)
	assert.True(t, strings.HasPrefix(perr.Path, "/reader"), perr.Path)

	_, err = e.c.StartReader(bkCtx(t), pbs.ReaderOptions{Snapshot: datastore.Snapshot{}})
	assert.Error(t, err)
}

// The client log, which manifests never list, is read without manifest
// check; a snapshot without one answers 404. A snapshot still being
// written cannot be opened.
func TestReaderClientLogAndUnfinished(t *testing.T) {
	f := newReaderFixture(t)
	r := f.open(t)
	_, err := r.DownloadBlob(bkCtx(t), "client.log")
	var perr *pbs.Error
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, 404, perr.Status)
	assert.ErrorIs(t, err, pbs.ErrNotFound)

	s := f.e.start("unfinished")
	_, err = s.UploadBlob(bkCtx(t), "a.conf", []byte("a"))
	require.NoError(t, err)
	_, err = f.e.c.StartReader(bkCtx(t), readerOpts(f.e, s.Snapshot()))
	require.ErrorAs(t, err, &perr, "an unfinished snapshot cannot be read")
}
