package pbstest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
)

// The tests in this file follow the implementation pitfalls of
// pbs-protocol.md section 11 that concern the server, one test per item
// (items 1, 8 and 12 are about client-side crypto, chunking and TLS; the
// server's part of items 1 and 2, accepting encrypted chunks it cannot
// check, is TestChunkUploadChecks). Other tests cover the same rules in
// more depth; these pin the item itself.

// Pitfall 3: an append may only name a digest whose upload has been
// answered: while the upload is still in flight the digest is unknown.
func TestPitfall03AppendOnlyAfterUploadAnswered(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	wid := c.createIndex("dynamic", "a.didx", nil)
	data := randomBytes(40, 10000)
	d := datastore.ComputeDigest(data)
	blob := encodeChunk(t, data)

	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		resp, err := c.conn.Do(context.Background(), "POST", "/dynamic_chunk", chunkQuery(wid, d, len(data), blob), "application/octet-stream", pr)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	_, err := pw.Write(blob[:len(blob)/2])
	require.NoError(t, err)
	msg := c.fails(http.StatusBadRequest, "PUT", "/dynamic_index", nil, "application/json", appendBody(wid, []datastore.Digest{d}, []uint64{0}))
	assert.Equal(t, "no such chunk "+d.String(), msg)
	_, err = pw.Write(blob[len(blob)/2:])
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	require.Equal(t, http.StatusOK, <-done)
	c.appendChunks("dynamic", wid, []datastore.Digest{d}, []uint64{0})
}

// Pitfall 3, second half: appends carry start offsets, the .didx stores
// end offsets.
func TestPitfall03StartOffsetsOnTheWireEndOffsetsOnDisk(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	chunks := [][]byte{randomBytes(41, 100), randomBytes(42, 200)}
	f := c.uploadDynamic("a.didx", chunks, nil) // sends offsets 0 and 100
	c.finishBackup("host", "x", protoTime, f)
	waitSessions(t, srv)
	ix, err := openStore(t, srv).OpenDynamicIndex(datastore.Namespace{}, snapshotOf("host", "x", protoTime), "a.didx")
	require.NoError(t, err)
	_, end0, _ := ix.Entry(0)
	_, end1, _ := ix.Entry(1)
	assert.Equal(t, []uint64{100, 300}, []uint64{end0, end1})
}

// Pitfall 4: chunks of the previous snapshot are appendable only after
// GET previous of that index in the same session.
func TestPitfall04PreviousIndexInSameSession(t *testing.T) {
	srv := NewServer(t)
	chunks := testChunks(43, 2, 500)
	firstBackup(t, srv, chunks, make([]byte, 10))
	d := datastore.ComputeDigest(chunks[0])

	c := startBackupSession(t, srv, "host", "x", protoTime+1)
	wid := c.createIndex("dynamic", "root.pxar.didx", nil)
	c.fails(http.StatusBadRequest, "PUT", "/dynamic_index", nil, "application/json", appendBody(wid, []datastore.Digest{d}, []uint64{0}))
	c.raw("/previous", url.Values{"archive-name": {"root.pxar.didx"}})
	c.appendChunks("dynamic", wid, []datastore.Digest{d}, []uint64{0})
	// Known chunks are per session, not per archive.
	wid2 := c.createIndex("dynamic", "other.didx", nil)
	c.appendChunks("dynamic", wid2, []datastore.Digest{d}, []uint64{0})
}

// Pitfall 5: 4 MiB chunks, at most one short tail per fixed writer,
// chunk-count = append operations.
func TestPitfall05FixedChunkRules(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "vm", "1", protoTime)
	image := randomBytes(44, datastore.FixedChunkSize+5)
	f := c.uploadFixed("d.img.fidx", image)
	c.finishBackup("vm", "1", protoTime, f)
	waitSessions(t, srv)
	ix, err := openStore(t, srv).OpenFixedIndex(datastore.Namespace{}, snapshotOf("vm", "1", protoTime), "d.img.fidx")
	require.NoError(t, err)
	assert.Equal(t, uint64(datastore.FixedChunkSize), ix.ChunkSize())
	start, end := ix.ChunkRange(1)
	assert.Equal(t, uint64(5), end-start, "one short tail")
	// The rest of the item (second short chunk, count) is TestFixedAppendRules.
}

// Pitfall 6: close checksums are SHA-256 over (u64le end || digest)* for
// dynamic and over digest* for fixed indexes; the server computes them
// itself and refuses others.
func TestPitfall06CloseChecksums(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	wid := c.createIndex("dynamic", "a.didx", nil)
	d := c.uploadChunk("dynamic", wid, []byte("abc"))
	c.appendChunks("dynamic", wid, []datastore.Digest{d}, []uint64{0})
	var fixedStyle datastore.FixedChecksum
	fixedStyle.Add(d)
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/dynamic_close", closeQuery(wid, 1, 3, fixedStyle.Sum()), "", nil), "got unexpected checksum")
}

// Pitfall 7: the manifest is uploaded before finish, and the server
// rewrites the stored manifest afterwards.
func TestPitfall07ManifestBeforeFinishServerRewrites(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	f := c.uploadBlob("a.conf.blob", []byte("a"))
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/finish", nil, "", nil), "unable to update manifest blob")
	uploaded := manifestBlob(t, "host", "x", protoTime, f)
	c.postBlob(datastore.ManifestName, uploaded)
	c.data("POST", "/finish", nil, "", nil)
	c.conn.Close()
	waitSessions(t, srv)
	stored, err := os.ReadFile(filepath.Join(srv.DatastorePath, "host", "x", "2023-11-14T22:13:20Z", datastore.ManifestName))
	require.NoError(t, err)
	assert.NotEqual(t, uploaded, stored)
	m, err := datastore.DecodeManifestBlob(stored)
	require.NoError(t, err)
	assert.NotNil(t, m.Unprotected.ChunkUploadStats)
}

// Pitfall 9: the previous snapshot is the newest finished one; a newer
// snapshot without manifest (a PBS backup still running, or one that
// crashed) is skipped; backup-time must be strictly newer.
func TestPitfall09PreviousIsNewestFinished(t *testing.T) {
	srv := NewServer(t)
	firstBackup(t, srv, testChunks(45, 1, 100), make([]byte, 10))
	unfinished := filepath.Join(srv.DatastorePath, "host", "x", datastore.FormatBackupTime(time.Unix(protoTime+10, 0)))
	require.NoError(t, os.Mkdir(unfinished, 0o755))
	c := startBackupSession(t, srv, "host", "x", protoTime+20)
	assert.Equal(t, strconv.FormatInt(protoTime, 10), string(c.data("GET", "/previous_backup_time", nil, "", nil)))
	// The rest of the item: TestPreviousSkipsSnapshotWithFailedVerify,
	// TestBackupTimeMustIncreaseAndSnapshotBeNew, TestBackupWithoutFinishLeavesNothing.
}

// Pitfall 10: parameters come from where the Content-Type says; upload
// methods (blob, chunks) only from the query string; errors are plain
// text; the server speaks HTTP/1.1 only, so the upgrade works even for a
// client that offers h2.
func TestPitfall10ParameterSourcesAndHTTP11(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)

	// JSON body: the query string is ignored.
	msg := c.fails(http.StatusBadRequest, "POST", "/dynamic_index", url.Values{"archive-name": {"a.didx"}}, "application/json", []byte(`{}`))
	assert.Contains(t, msg, "'archive-name'")
	assert.False(t, strings.HasPrefix(msg, "{"), "error bodies are plain text: %s", msg)
	// A blob's parameters in a JSON body do not count.
	blob, err := datastore.EncodeBlob([]byte("x"), false)
	require.NoError(t, err)
	body, _ := json.Marshal(map[string]any{"file-name": "a.blob", "encoded-size": len(blob)})
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/blob", nil, "application/json", body), "'file-name'")
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/dynamic_index", nil, "text/plain", nil), "unsupported content type")

	// ALPN: a client offering h2 first still gets HTTP/1.1.
	conn, err := tls.Dial("tcp", strings.TrimPrefix(srv.URL, "https://"), &tls.Config{RootCAs: srv.httpSrv.CertPool(), NextProtos: []string{"h2", "http/1.1"}})
	require.NoError(t, err)
	defer conn.Close()
	assert.NotEqual(t, "h2", conn.ConnectionState().NegotiatedProtocol)
}

// Pitfall 11: blobs must carry a correct CRC (verified), chunks get theirs
// recomputed. See TestChunkUploadChecks and TestFinishRules for the
// details; here both in one session.
func TestPitfall11BlobCRCCheckedChunkCRCRecomputed(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	blob, err := datastore.EncodeBlob([]byte("config"), true)
	require.NoError(t, err)
	blob[8] ^= 0xff
	q := url.Values{"file-name": {"a.conf.blob"}, "encoded-size": {strconv.Itoa(len(blob))}}
	assert.Equal(t, "Data blob has wrong CRC checksum.", c.fails(http.StatusBadRequest, "POST", "/blob", q, "", blob))
	wid := c.createIndex("dynamic", "a.didx", nil)
	data := []byte("chunk")
	chunk := encodeChunk(t, data)
	chunk[8] ^= 0xff
	c.data("POST", "/dynamic_chunk", chunkQuery(wid, datastore.ComputeDigest(data), len(data), chunk), "application/octet-stream", chunk)
	_, err = srv.stores[DefaultDatastore].ReadChunk(datastore.ComputeDigest(data))
	assert.NoError(t, err, "stored with a correct CRC")
}

// Pitfall 13: reader sessions serve chunks only of indexes downloaded in
// that session (401 otherwise). Details: TestReaderChunkNeedsIndexDownload.
func TestPitfall13ReaderChunksNeedIndex(t *testing.T) {
	srv := NewServer(t)
	chunks := testChunks(46, 1, 100)
	firstBackup(t, srv, chunks, make([]byte, 10))
	r := startReaderSession(t, srv, "host", "x", protoTime)
	r.fails(http.StatusUnauthorized, "GET", "/chunk", url.Values{"digest": {datastore.ComputeDigest(chunks[0]).String()}}, "", nil)
}

// Pitfall 14: digests are lowercase hex; uppercase is rejected everywhere.
func TestPitfall14LowercaseDigests(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	wid := c.createIndex("dynamic", "a.didx", nil)
	d := c.uploadChunk("dynamic", wid, []byte("x"))
	upper := strings.ToUpper(d.String())
	body := []byte(`{"wid":` + strconv.Itoa(wid) + `,"digest-list":["` + upper + `"],"offset-list":[0]}`)
	assert.Contains(t, c.fails(http.StatusBadRequest, "PUT", "/dynamic_index", nil, "application/json", body), "value does not match the regex pattern")
	c.conn.Close()
	waitSessions(t, srv)
	firstBackup(t, srv, [][]byte{[]byte("x")}, make([]byte, 10))
	r := startReaderSession(t, srv, "host", "x", protoTime)
	r.fails(http.StatusBadRequest, "GET", "/chunk", url.Values{"digest": {upper}}, "", nil)
}

// Many uploads in flight on one session, appended in stream order
// afterwards, as the reference client pipelines them.
func TestConcurrentChunkUploads(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	wid := c.createIndex("dynamic", "a.didx", nil)
	chunks := testChunks(47, 64, 8192)
	var wg sync.WaitGroup
	for _, ch := range chunks {
		wg.Go(func() {
			d := datastore.ComputeDigest(ch)
			blob := encodeChunk(t, ch)
			status, body, err := c.try("POST", "/dynamic_chunk", chunkQuery(wid, d, len(ch), blob), "application/octet-stream", blob)
			assert.NoError(t, err)
			assert.Equal(t, http.StatusOK, status, "%s", body)
		})
	}
	wg.Wait()
	var ds []datastore.Digest
	var offs []uint64
	var off uint64
	var sum datastore.DynamicChecksum
	for _, ch := range chunks {
		d := datastore.ComputeDigest(ch)
		ds, offs = append(ds, d), append(offs, off)
		off += uint64(len(ch))
		sum.Add(off, d)
	}
	c.appendChunks("dynamic", wid, ds, offs)
	c.data("POST", "/dynamic_close", closeQuery(wid, len(chunks), off, sum.Sum()), "", nil)
}
