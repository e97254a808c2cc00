package pbstest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/h2upgrade"
)

// TestReaderRestoresWhatWasWritten restores both archives of a snapshot
// the way the reference client does: manifest, index, then its chunks,
// each verified against the index.
func TestReaderRestoresWhatWasWritten(t *testing.T) {
	srv := NewServer(t)
	chunks := testChunks(20, 4, 3000)
	image := randomBytes(21, datastore.FixedChunkSize+77)
	files := firstBackup(t, srv, chunks, image)

	r := startReaderSession(t, srv, "host", "x", protoTime)
	m, err := datastore.DecodeManifestBlob(r.raw("/download", url.Values{"file-name": {datastore.ManifestName}}))
	require.NoError(t, err)
	assert.Equal(t, files, m.Files)

	raw := r.raw("/download", url.Values{"file-name": {"root.pxar.didx"}})
	ix, err := datastore.ReadDynamicIndex(bytes.NewReader(raw), int64(len(raw)))
	require.NoError(t, err)
	dec := datastore.NewBlobDecoder()
	var restored []byte
	for i := range ix.Count() {
		start, end, d := ix.Entry(i)
		blob := r.raw("/chunk", url.Values{"digest": {d.String()}})
		data, err := dec.DecodeChunk(nil, blob, d, int(end-start))
		require.NoError(t, err)
		restored = append(restored, data...)
	}
	assert.Equal(t, bytes.Join(chunks, nil), restored)

	raw = r.raw("/download", url.Values{"file-name": {"disk.img.fidx"}})
	fx, err := datastore.ReadFixedIndex(bytes.NewReader(raw), int64(len(raw)))
	require.NoError(t, err)
	restored = nil
	for i := range fx.Count() {
		start, end := fx.ChunkRange(i)
		data, err := dec.DecodeChunk(nil, r.raw("/chunk", url.Values{"digest": {fx.Digest(i).String()}}), fx.Digest(i), int(end-start))
		require.NoError(t, err)
		restored = append(restored, data...)
	}
	assert.Equal(t, image, restored)

	conf := r.raw("/download", url.Values{"file-name": {"a.conf.blob"}})
	plain, err := datastore.DecodeBlob(conf)
	require.NoError(t, err)
	assert.Equal(t, "conf", string(plain))

	speed := r.raw("/speedtest", nil)
	assert.Equal(t, bytes.Repeat([]byte{'A'}, 1<<20), speed)
}

func TestReaderChunkNeedsIndexDownload(t *testing.T) {
	srv := NewServer(t)
	chunks := testChunks(22, 2, 1000)
	firstBackup(t, srv, chunks, make([]byte, 100))
	d := datastore.ComputeDigest(chunks[0])

	r := startReaderSession(t, srv, "host", "x", protoTime)
	r.raw("/download", url.Values{"file-name": {datastore.ManifestName}})
	// Pitfall 13: only chunks of indexes downloaded in this session.
	assert.Equal(t, "download chunk "+d.String()+" not allowed", r.fails(http.StatusUnauthorized, "GET", "/chunk", url.Values{"digest": {d.String()}}, "", nil))
	r.raw("/download", url.Values{"file-name": {"root.pxar.didx"}})
	stored, err := os.ReadFile(srv.stores[DefaultDatastore].ChunkPath(d))
	require.NoError(t, err)
	assert.Equal(t, stored, r.raw("/chunk", url.Values{"digest": {d.String()}}), "the chunk file as stored")

	// A new session starts from nothing.
	r2 := startReaderSession(t, srv, "host", "x", protoTime)
	r2.fails(http.StatusUnauthorized, "GET", "/chunk", url.Values{"digest": {d.String()}}, "", nil)

	// Missing files: index 400, blob 404; bad names 400.
	r.fails(http.StatusBadRequest, "GET", "/download", url.Values{"file-name": {"nope.didx"}}, "", nil)
	r.fails(http.StatusNotFound, "GET", "/download", url.Values{"file-name": {"nope.blob"}}, "", nil)
	assert.Contains(t, r.fails(http.StatusBadRequest, "GET", "/download", url.Values{"file-name": {"x.txt"}}, "", nil), "unknown archive type")
	assert.Contains(t, r.fails(http.StatusBadRequest, "GET", "/chunk", url.Values{"digest": {"abc"}}, "", nil), "'digest'")
	assert.Equal(t, "Path '/finish' not found.", r.fails(http.StatusNotFound, "POST", "/finish", nil, "", nil))
}

// TestReaderServesCorruptChunkAsStored proves the reader leaves the
// detection of a flipped byte to the client, as PBS does.
func TestReaderServesCorruptChunkAsStored(t *testing.T) {
	srv := NewServer(t)
	chunks := testChunks(23, 2, 2000)
	firstBackup(t, srv, chunks, make([]byte, 100))
	d := datastore.ComputeDigest(chunks[1])
	path := srv.stores[DefaultDatastore].ChunkPath(d)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	data[len(data)/2] ^= 0x01
	require.NoError(t, os.WriteFile(path, data, 0o644))

	r := startReaderSession(t, srv, "host", "x", protoTime)
	r.raw("/download", url.Values{"file-name": {"root.pxar.didx"}})
	got := r.raw("/chunk", url.Values{"digest": {d.String()}})
	assert.Equal(t, data, got)
	_, err = datastore.NewBlobDecoder().DecodeChunk(nil, got, d, len(chunks[1]))
	assert.True(t, errors.Is(err, datastore.ErrChecksum), "%v", err)
}

func TestReaderPermissions(t *testing.T) {
	srv := NewServer(t)
	alice := addToken(t, srv, "alice@pbs", "DatastoreBackup", "/datastore/store1")
	bob := addToken(t, srv, "bob@pbs", "DatastoreBackup", "/datastore/store1")
	reader := addToken(t, srv, "reader@pbs", "DatastoreReader", "/datastore/store1")
	nobody := addToken(t, srv, "nobody@pbs", "DatastoreAudit", "/datastore/store1")

	c, err := protoDial(t, srv, alice, "/api2/json/backup", h2upgrade.BackupProtocol, backupQuery("host", "a", protoTime))
	require.NoError(t, err)
	c.finishBackup("host", "a", protoTime, c.uploadBlob("a.conf.blob", []byte("a")))
	waitSessions(t, srv)

	q := readerQuery("host", "a", protoTime)
	for _, tok := range []struct {
		name string
		ok   bool
		msg  string
	}{{"alice", true, ""}, {"reader", true, ""}, {"bob", false, "backup owner check failed!"}, {"nobody", false, "no permissions on /datastore/store1"}} {
		tk := map[string]auth.Token{"alice": alice, "bob": bob, "reader": reader, "nobody": nobody}[tok.name]
		r, err := protoDial(t, srv, tk, "/api2/json/reader", h2upgrade.ReaderProtocol, q)
		if tok.ok {
			require.NoError(t, err, tok.name)
			r.raw("/download", url.Values{"file-name": {"a.conf.blob"}})
			continue
		}
		status, msg := refused(t, r, err)
		assert.Equal(t, http.StatusBadRequest, status, "%s: not a 403", tok.name)
		assert.Equal(t, tok.msg, msg, tok.name)
	}
}

func TestReaderSnapshotChecksAndLock(t *testing.T) {
	srv := NewServer(t)
	firstBackup(t, srv, testChunks(24, 1, 100), make([]byte, 10))

	r, err := protoDial(t, srv, srv.AdminToken, "/api2/json/reader", h2upgrade.ReaderProtocol, readerQuery("host", "x", protoTime+1))
	status, msg := refused(t, r, err)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "snapshot host/x/2023-11-14T22:13:21Z does not exist.", msg)
	q := readerQuery("host", "x", protoTime)
	q.Set("benchmark", "1")
	r, err = protoDial(t, srv, srv.AdminToken, "/api2/json/reader", h2upgrade.ReaderProtocol, q)
	_, msg = refused(t, r, err)
	assert.Contains(t, msg, "additional properties", "the reader has no benchmark parameter")

	// While a reader session runs, the snapshot cannot be removed.
	startReaderSession(t, srv, "host", "x", protoTime)
	st := srv.stores[DefaultDatastore]
	err = st.RemoveSnapshot(context.Background(), datastore.Namespace{}, snapshotOf("host", "x", protoTime), false)
	assert.True(t, errors.Is(err, datastore.ErrLocked), "%v", err)
	// Several readers share the lock.
	startReaderSession(t, srv, "host", "x", protoTime)
}

func TestReaderRefusesExclusivelyLockedSnapshot(t *testing.T) {
	srv := NewServer(t)
	firstBackup(t, srv, testChunks(25, 1, 100), make([]byte, 10))
	lock, err := srv.stores[DefaultDatastore].LockSnapshot(datastore.Namespace{}, snapshotOf("host", "x", protoTime), true)
	require.NoError(t, err)
	r, err := protoDial(t, srv, srv.AdminToken, "/api2/json/reader", h2upgrade.ReaderProtocol, readerQuery("host", "x", protoTime))
	status, msg := refused(t, r, err)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, msg, "unable to acquire lock")
	require.NoError(t, lock.Unlock())
	startReaderSession(t, srv, "host", "x", protoTime)
}

func TestNamespacedBackupAndRestore(t *testing.T) {
	srv := NewServer(t)
	st := srv.stores[DefaultDatastore]
	ns, err := st.CreateNamespace(datastore.Namespace{}, "prod")
	require.NoError(t, err)
	ns, err = st.CreateNamespace(ns, "db")
	require.NoError(t, err)
	q := backupQuery("ct", "200", protoTime)
	q.Set("ns", "prod/db")
	c, err := protoDial(t, srv, srv.AdminToken, "/api2/json/backup", h2upgrade.BackupProtocol, q)
	require.NoError(t, err)
	chunks := testChunks(26, 2, 500)
	c.finishBackup("ct", "200", protoTime, c.uploadDynamic("root.pxar.didx", chunks, nil))
	waitSessions(t, srv)

	res, err := openStore(t, srv).Verify(context.Background(), ns, snapshotOf("ct", "200", protoTime), datastore.VerifyOptions{NoUpdate: true})
	require.NoError(t, err)
	assert.True(t, res.OK())
	rq := readerQuery("ct", "200", protoTime)
	r, err := protoDial(t, srv, srv.AdminToken, "/api2/json/reader", h2upgrade.ReaderProtocol, rq)
	_, msg := refused(t, r, err)
	assert.Equal(t, "snapshot ct/200/2023-11-14T22:13:20Z does not exist.", msg, "not in the root namespace")
	rq.Set("ns", "prod/db")
	r, err = protoDial(t, srv, srv.AdminToken, "/api2/json/reader", h2upgrade.ReaderProtocol, rq)
	require.NoError(t, err)
	r.raw("/download", url.Values{"file-name": {"root.pxar.didx"}})
	d := datastore.ComputeDigest(chunks[1])
	blob := r.raw("/chunk", url.Values{"digest": {d.String()}})
	got, err := datastore.NewBlobDecoder().DecodeChunk(nil, blob, d, len(chunks[1]))
	require.NoError(t, err)
	assert.Equal(t, chunks[1], got)
}
