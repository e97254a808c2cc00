package pbstest

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
)

// TestBackupSessionWritesVerifiableSnapshot runs a whole backup by hand
// (a dynamic archive with a repeated chunk, an image with a short tail, a
// blob, the manifest, finish) and checks the result with package datastore
// as a user would: listed, verified, the same bytes, and garbage collection
// keeps exactly the referenced chunks.
func TestBackupSessionWritesVerifiableSnapshot(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "web01", protoTime)

	assert.Equal(t, "null", string(c.data("GET", "/previous_backup_time", nil, "", nil)))
	chunks := testChunks(1, 5, 64<<10)
	chunks = append(chunks, chunks[1]) // a duplicate inside the stream
	didx := c.uploadDynamic("root.pxar.didx", chunks, nil)
	image := make([]byte, 2*datastore.FixedChunkSize+4096)
	copy(image[datastore.FixedChunkSize:], randomBytes(2, 1<<20))
	fidx := c.uploadFixed("disk.img.fidx", image)
	conf := c.uploadBlob("qemu-server.conf.blob", []byte("memory: 1024\n"))

	// A chunk uploaded but never appended: garbage.
	wid := c.createIndex("dynamic", "catalog.pcat1.didx", nil)
	stray := c.uploadChunk("dynamic", wid, []byte("never appended"))
	reused := datastore.ComputeDigest(chunks[0])
	c.appendChunks("dynamic", wid, []datastore.Digest{reused}, []uint64{0})
	var sum datastore.DynamicChecksum
	sum.Add(uint64(len(chunks[0])), reused)
	c.data("POST", "/dynamic_close", closeQuery(wid, 1, uint64(len(chunks[0])), sum.Sum()), "", nil)
	catalog := datastore.ManifestFile{Filename: "catalog.pcat1.didx", CryptMode: datastore.CryptNone, Size: uint64(len(chunks[0])), Csum: hexSum(sum.Sum())}

	st := openStore(t, srv)
	items, err := st.ListSnapshots(context.Background(), datastore.Namespace{}, "", "")
	require.NoError(t, err)
	assert.Empty(t, items, "nothing is visible before finish")

	c.finishBackup("host", "web01", protoTime, didx, fidx, conf, catalog)
	waitSessions(t, srv)

	snap := snapshotOf("host", "web01", protoTime)
	items, err = st.ListSnapshots(context.Background(), datastore.Namespace{}, "", "")
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, snap, items[0].Snapshot)
	assert.True(t, items[0].Finished)
	owner, err := st.GroupOwner(datastore.Namespace{}, snap.Group)
	require.NoError(t, err)
	assert.Equal(t, "root@pam!admin", owner)

	res, err := st.Verify(context.Background(), datastore.Namespace{}, snap, datastore.VerifyOptions{NoUpdate: true})
	require.NoError(t, err)
	assert.True(t, res.OK(), "%v", res.Errors)

	m, _, err := st.ReadManifest(datastore.Namespace{}, snap)
	require.NoError(t, err)
	require.NotNil(t, m.Unprotected.ChunkUploadStats, "the server records upload statistics at finish")
	assert.Equal(t, uint64(5+3+1), m.Unprotected.ChunkUploadStats.Count, "5 distinct stream chunks, 3 distinct image chunks, the stray one")

	dix, err := st.OpenDynamicIndex(datastore.Namespace{}, snap, "root.pxar.didx")
	require.NoError(t, err)
	require.Equal(t, len(chunks), dix.Count())
	var end uint64
	dec := datastore.NewBlobDecoder()
	for i, want := range chunks {
		start, e, d := dix.Entry(i)
		assert.Equal(t, end, start)
		end += uint64(len(want))
		assert.Equal(t, end, e, "the .didx stores end offsets")
		got, err := st.GetChunk(dec, nil, d, true)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	fix, err := st.OpenFixedIndex(datastore.Namespace{}, snap, "disk.img.fidx")
	require.NoError(t, err)
	assert.Equal(t, uint64(len(image)), fix.Size())
	assert.Equal(t, 3, fix.Count())

	// GC with a cutoff after every upload: only the stray chunk goes.
	cutoff := time.Now()
	time.Sleep(10 * time.Millisecond)
	report, err := st.GarbageCollect(context.Background(), datastore.GCOptions{Cutoff: cutoff, NoStatusFile: true})
	require.NoError(t, err)
	assert.Empty(t, report.MissingChunks)
	for i := range dix.Count() {
		_, _, d := dix.Entry(i)
		ok, err := st.HasChunk(d)
		require.NoError(t, err)
		assert.True(t, ok, "GC keeps referenced chunk %s", d)
	}
	for i := range fix.Count() {
		ok, err := st.HasChunk(fix.Digest(i))
		require.NoError(t, err)
		assert.True(t, ok)
	}
	ok, err := st.HasChunk(stray)
	require.NoError(t, err)
	assert.False(t, ok, "an unreferenced upload is garbage")
	assert.Equal(t, uint64(1), report.RemovedChunks)
}

// TestBackupWithoutFinishLeavesNothing proves that a session whose
// connection ends before finish (here: after the manifest upload) leaves
// no snapshot and no temporary directory, only its chunks.
func TestBackupWithoutFinishLeavesNothing(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "vm", "100", protoTime)
	chunks := testChunks(3, 3, 4096)
	f := c.uploadDynamic("root.pxar.didx", chunks, nil)
	c.postBlob(datastore.ManifestName, manifestBlob(t, "vm", "100", protoTime, f))
	c.conn.Close()
	waitSessions(t, srv)

	st := openStore(t, srv)
	items, err := st.ListSnapshots(context.Background(), datastore.Namespace{}, "", "")
	require.NoError(t, err)
	assert.Empty(t, items)
	entries, err := os.ReadDir(filepath.Join(srv.DatastorePath, "vm", "100"))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"owner"}, names, "no snapshot directory, visible or hidden")
	ok, err := st.HasChunk(datastore.ComputeDigest(chunks[0]))
	require.NoError(t, err)
	assert.True(t, ok, "uploaded chunks stay for garbage collection")

	// The group is free again: the same backup succeeds now.
	c = startBackupSession(t, srv, "vm", "100", protoTime)
	f = c.uploadDynamic("root.pxar.didx", chunks, nil)
	c.finishBackup("vm", "100", protoTime, f)
	waitSessions(t, srv)
	items, err = st.ListSnapshots(context.Background(), datastore.Namespace{}, "", "")
	require.NoError(t, err)
	assert.Len(t, items, 1)
}

// TestBackupSessionListsEndpoints checks GET / and the 404 of unknown
// paths inside a session (pbs-protocol.md 3.2).
func TestBackupSessionListsEndpoints(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "a", protoTime)
	var list []map[string]string
	require.NoError(t, json.Unmarshal(c.data("GET", "/", nil, "", nil), &list))
	require.Len(t, list, len(backupEndpoints))
	assert.Equal(t, map[string]string{"subdir": "blob"}, list[0])
	assert.Equal(t, "Path '/nope' not found.", c.fails(http.StatusNotFound, "GET", "/nope", nil, "", nil))
	assert.Equal(t, "Path '/finish' not found.", c.fails(http.StatusNotFound, "GET", "/finish", nil, "", nil), "a known path with the wrong method")
	c.data("POST", "/speedtest", nil, "application/octet-stream", make([]byte, 1<<20))
}

// TestGarbageCollectionDuringSessionKeepsItsChunks runs the server
// store's garbage collection, with a cutoff that would remove every
// unreferenced chunk, while a session has uploaded chunks no index
// references yet: they survive because the session's writer is running,
// and the backup finishes intact.
func TestGarbageCollectionDuringSessionKeepsItsChunks(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "gc", protoTime)
	chunks := testChunks(31, 3, 4096)
	wid := c.createIndex("dynamic", "a.didx", nil)
	for _, ch := range chunks {
		c.uploadChunk("dynamic", wid, ch)
	}
	time.Sleep(10 * time.Millisecond)
	st := srv.stores[DefaultDatastore]
	_, err := st.GarbageCollect(context.Background(), datastore.GCOptions{Cutoff: time.Now(), NoStatusFile: true})
	require.NoError(t, err)
	for _, ch := range chunks {
		ok, err := st.HasChunk(datastore.ComputeDigest(ch))
		require.NoError(t, err)
		assert.True(t, ok, "a running session's chunks survive")
	}
	var sum datastore.DynamicChecksum
	var ds []datastore.Digest
	var offs []uint64
	var off uint64
	for _, ch := range chunks {
		d := datastore.ComputeDigest(ch)
		ds, offs = append(ds, d), append(offs, off)
		off += uint64(len(ch))
		sum.Add(off, d)
	}
	c.appendChunks("dynamic", wid, ds, offs)
	c.data("POST", "/dynamic_close", closeQuery(wid, len(chunks), off, sum.Sum()), "", nil)
	c.finishBackup("host", "gc", protoTime, datastore.ManifestFile{Filename: "a.didx", Size: off, Csum: hexSum(sum.Sum())})
	waitSessions(t, srv)
	res, err := st.Verify(context.Background(), datastore.Namespace{}, snapshotOf("host", "gc", protoTime), datastore.VerifyOptions{NoUpdate: true})
	require.NoError(t, err)
	assert.True(t, res.OK(), "%v", res.Errors)
}
