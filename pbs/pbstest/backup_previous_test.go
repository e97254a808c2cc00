package pbstest

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/h2upgrade"
)

// firstBackup stores host/x at protoTime with a dynamic archive of
// chunks, an image and a blob, and returns the manifest entries.
func firstBackup(t *testing.T, srv *Server, chunks [][]byte, image []byte) []datastore.ManifestFile {
	t.Helper()
	c := startBackupSession(t, srv, "host", "x", protoTime)
	files := []datastore.ManifestFile{
		c.uploadDynamic("root.pxar.didx", chunks, nil),
		c.uploadFixed("disk.img.fidx", image),
		c.uploadBlob("a.conf.blob", []byte("conf")),
	}
	c.finishBackup("host", "x", protoTime, files...)
	waitSessions(t, srv)
	return files
}

func TestPreviousRegistersChunksOnlyWhenDownloaded(t *testing.T) {
	srv := NewServer(t)
	chunks := testChunks(6, 4, 8192)
	image := randomBytes(7, datastore.FixedChunkSize+100)
	files := firstBackup(t, srv, chunks, image)

	// Pitfall 4: without GET previous of the index, its chunks are unknown.
	c := startBackupSession(t, srv, "host", "x", protoTime+1)
	wid := c.createIndex("dynamic", "root.pxar.didx", nil)
	d0 := datastore.ComputeDigest(chunks[0])
	msg := c.fails(http.StatusBadRequest, "PUT", "/dynamic_index", nil, "application/json", appendBody(wid, []datastore.Digest{d0}, []uint64{0}))
	assert.Equal(t, "no such chunk "+d0.String(), msg)

	// Downloading the manifest registers nothing either.
	status, body := c.do("GET", "/previous", url.Values{"archive-name": {datastore.ManifestName}}, "", nil)
	require.Equal(t, http.StatusOK, status)
	m, err := datastore.DecodeManifestBlob(body)
	require.NoError(t, err)
	assert.Equal(t, files[0].Csum, m.Files[0].Csum)
	c.fails(http.StatusBadRequest, "PUT", "/dynamic_index", nil, "application/json", appendBody(wid, []datastore.Digest{d0}, []uint64{0}))

	// The index download registers every chunk with its length.
	status, body = c.do("GET", "/previous", url.Values{"archive-name": {"root.pxar.didx"}}, "", nil)
	require.Equal(t, http.StatusOK, status)
	stored, err := os.ReadFile(srv.DatastorePath + "/host/x/" + datastore.FormatBackupTime(snapshotOf("host", "x", protoTime).Time) + "/root.pxar.didx")
	require.NoError(t, err)
	assert.Equal(t, stored, body, "previous sends the file byte for byte")
	known := map[datastore.Digest]bool{}
	for _, ch := range chunks {
		known[datastore.ComputeDigest(ch)] = true
	}
	c.conn.Close()
	waitSessions(t, srv)

	// A second backup that reuses everything uploads nothing.
	c = startBackupSession(t, srv, "host", "x", protoTime+1)
	c.raw("/previous", url.Values{"archive-name": {"root.pxar.didx"}})
	c.raw("/previous", url.Values{"archive-name": {"disk.img.fidx"}})
	again := c.uploadDynamic("root.pxar.didx", chunks, known)
	assert.Equal(t, files[0], again, "same chunks, same checksum")
	// The image's chunks, including the short tail, are known by length.
	wid = c.createIndex("fixed", "disk.img.fidx", url.Values{"size": {"4194404"}})
	full, tail := datastore.ComputeDigest(image[:datastore.FixedChunkSize]), datastore.ComputeDigest(image[datastore.FixedChunkSize:])
	c.appendChunks("fixed", wid, []datastore.Digest{full, tail}, []uint64{0, datastore.FixedChunkSize})
	var sum datastore.FixedChecksum
	sum.Add(full)
	sum.Add(tail)
	c.data("POST", "/fixed_close", closeQuery(wid, 2, uint64(len(image)), sum.Sum()), "", nil)
	c.finishBackup("host", "x", protoTime+1, again, files[1])
	waitSessions(t, srv)

	st := openStore(t, srv)
	m, _, err = st.ReadManifest(datastore.Namespace{}, snapshotOf("host", "x", protoTime+1))
	require.NoError(t, err)
	assert.Equal(t, uint64(0), m.Unprotected.ChunkUploadStats.Count, "nothing was uploaded")
	res, err := st.Verify(context.Background(), datastore.Namespace{}, snapshotOf("host", "x", protoTime+1), datastore.VerifyOptions{NoUpdate: true})
	require.NoError(t, err)
	assert.True(t, res.OK(), "%v", res.Errors)
}

func TestPreviousErrors(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	assert.Equal(t, "no valid previous backup", c.fails(http.StatusBadRequest, "GET", "/previous", url.Values{"archive-name": {"a.didx"}}, "", nil))
	c.conn.Close()
	waitSessions(t, srv)
	firstBackup(t, srv, testChunks(8, 1, 100), make([]byte, 10))

	c = startBackupSession(t, srv, "host", "x", protoTime+1)
	// Wire parity: a missing previous archive is a 400 (indexes are opened
	// first), a missing blob a 404.
	c.fails(http.StatusBadRequest, "GET", "/previous", url.Values{"archive-name": {"missing.didx"}}, "", nil)
	c.fails(http.StatusBadRequest, "GET", "/previous", url.Values{"archive-name": {"missing.fidx"}}, "", nil)
	c.fails(http.StatusNotFound, "GET", "/previous", url.Values{"archive-name": {"missing.blob"}}, "", nil)
	assert.Contains(t, c.fails(http.StatusBadRequest, "GET", "/previous", url.Values{"archive-name": {"root.pxar"}}, "", nil), "unknown archive type")
	assert.Contains(t, c.fails(http.StatusBadRequest, "GET", "/previous", url.Values{"archive-name": {"../x.blob"}}, "", nil), "parameter verification failed")
	assert.Contains(t, c.fails(http.StatusBadRequest, "GET", "/previous", nil, "", nil), "archive-name")
}

func TestPreviousSkipsSnapshotWithFailedVerify(t *testing.T) {
	srv := NewServer(t)
	firstBackup(t, srv, testChunks(9, 1, 100), make([]byte, 10))
	st := srv.stores[DefaultDatastore]
	require.NoError(t, st.UpdateManifest(context.Background(), datastore.Namespace{}, snapshotOf("host", "x", protoTime), func(m *datastore.Manifest) error {
		m.Unprotected.VerifyState = &datastore.VerifyState{UPID: "x", State: datastore.VerifyStateFailed}
		return nil
	}))
	c := startBackupSession(t, srv, "host", "x", protoTime+1)
	assert.Equal(t, "null", string(c.data("GET", "/previous_backup_time", nil, "", nil)), "a failed verify means no previous snapshot at all")
}

func TestFixedIndexReuse(t *testing.T) {
	srv := NewServer(t)
	image := make([]byte, 3*datastore.FixedChunkSize)
	copy(image[datastore.FixedChunkSize:], randomBytes(10, 1<<20))
	files := firstBackup(t, srv, testChunks(11, 1, 100), image)
	fidx := files[1]

	c := startBackupSession(t, srv, "host", "x", protoTime+1)
	size := url.Values{"size": {"12582912"}}
	withCsum := func(csum string) url.Values { return url.Values{"size": size["size"], "reuse-csum": {csum}} }
	msg := c.fails(http.StatusBadRequest, "POST", "/fixed_index", url.Values{"archive-name": {"other.img.fidx"}, "size": size["size"], "reuse-csum": {fidx.Csum}}, "", nil)
	assert.Equal(t, "cannot reuse index - no previous backup exists for archive", msg)
	bad := sha256.Sum256([]byte("x"))
	q := withCsum(hexSum(bad))
	q.Set("archive-name", "disk.img.fidx")
	msg = c.fails(http.StatusBadRequest, "POST", "/fixed_index", q, "", nil)
	assert.Contains(t, msg, "doesn't match last backup's ("+fidx.Csum+")")

	// Incremental: the index starts with the old digests; only the
	// changed second block is sent; the count is that of the appends.
	c.raw("/previous", url.Values{"archive-name": {"disk.img.fidx"}})
	wid := c.createIndex("fixed", "disk.img.fidx", withCsum(fidx.Csum))
	changed := randomBytes(12, datastore.FixedChunkSize)
	d := c.uploadChunk("fixed", wid, changed)
	c.appendChunks("fixed", wid, []datastore.Digest{d}, []uint64{datastore.FixedChunkSize})
	copy(image[datastore.FixedChunkSize:], changed)
	var sum datastore.FixedChecksum
	for off := 0; off < len(image); off += datastore.FixedChunkSize {
		sum.Add(datastore.ComputeDigest(image[off : off+datastore.FixedChunkSize]))
	}
	c.data("POST", "/fixed_close", closeQuery(wid, 1, 0, sum.Sum()), "", nil)
	c.finishBackup("host", "x", protoTime+1, datastore.ManifestFile{Filename: "disk.img.fidx", Size: uint64(len(image)), Csum: hexSum(sum.Sum())})
	waitSessions(t, srv)
	res, err := openStore(t, srv).Verify(context.Background(), datastore.Namespace{}, snapshotOf("host", "x", protoTime+1), datastore.VerifyOptions{NoUpdate: true})
	require.NoError(t, err)
	assert.True(t, res.OK(), "%v", res.Errors)

	// Reuse without a previous snapshot.
	c2, err := protoDial(t, srv, srv.AdminToken, "/api2/json/backup", h2upgrade.BackupProtocol, backupQuery("host", "fresh", protoTime))
	require.NoError(t, err)
	q = withCsum(fidx.Csum)
	q.Set("archive-name", "disk.img.fidx")
	assert.Equal(t, "cannot reuse index - no valid previous backup exists", c2.fails(http.StatusBadRequest, "POST", "/fixed_index", q, "", nil))
}
