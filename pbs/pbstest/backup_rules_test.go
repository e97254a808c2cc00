package pbstest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
)

// postChunk uploads blob as a chunk with the given query and returns
// status and body.
func (c *protoConn) postChunk(kind string, q url.Values, blob []byte) (int, string) {
	c.t.Helper()
	status, body := c.do("POST", "/"+kind+"_chunk", q, "application/octet-stream", blob)
	return status, string(body)
}

// The checks of an upload: the same answers for a compressed chunk, which
// is decoded to be checked, and an uncompressed one, hashed as its body
// arrives (backup_chunk_body.go).
func TestChunkUploadChecks(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	wid := c.createIndex("dynamic", "a.didx", nil)
	st := srv.stores[DefaultDatastore]
	for _, tc := range []struct {
		name     string
		data     []byte
		compress bool
	}{
		{"compressed", bytes.Repeat([]byte("chunk data "), 500), true},
		{"uncompressed", randomBytes(3, 300<<10), false}, // a body of several reads
	} {
		data := tc.data
		d := datastore.ComputeDigest(data)
		blob, err := datastore.EncodeBlob(data, tc.compress)
		require.NoError(t, err)
		h, err := datastore.ParseBlobHeader(blob)
		require.NoError(t, err)
		require.Equal(t, tc.compress, h.Kind.Compressed(), tc.name)

		other := datastore.ComputeDigest([]byte("other"))
		status, msg := c.postChunk("dynamic", chunkQuery(wid, other, len(data), blob), blob)
		assert.Equal(t, http.StatusBadRequest, status, tc.name)
		assert.Equal(t, "detected chunk with wrong digest.", msg, "%s: the server hashes every unencrypted chunk", tc.name)
		ok, err := st.HasChunk(other)
		require.NoError(t, err)
		assert.False(t, ok, tc.name)

		status, msg = c.postChunk("dynamic", chunkQuery(wid, d, len(data)+1, blob), blob)
		assert.Equal(t, http.StatusBadRequest, status, tc.name)
		assert.Contains(t, msg, "detected chunk with wrong length", tc.name)

		q := chunkQuery(wid, d, len(data), blob)
		q.Set("encoded-size", strconv.Itoa(len(blob)-1))
		status, msg = c.postChunk("dynamic", q, blob)
		assert.Equal(t, http.StatusBadRequest, status, tc.name)
		assert.Equal(t, "uploaded chunk is larger than announced.", msg, tc.name)
		q.Set("encoded-size", strconv.Itoa(len(blob)+1))
		status, msg = c.postChunk("dynamic", q, blob)
		assert.Equal(t, http.StatusBadRequest, status, tc.name)
		assert.Equal(t, "uploaded chunk has unexpected size.", msg, tc.name)

		// The uploaded CRC is not checked but recomputed before storing.
		broken := bytes.Clone(blob)
		binary.LittleEndian.PutUint32(broken[8:12], 0xdeadbeef)
		c.data("POST", "/dynamic_chunk", chunkQuery(wid, d, len(data), broken), "application/octet-stream", broken)
		stored, err := st.ReadChunk(d)
		require.NoError(t, err, "%s: the stored chunk has a correct CRC", tc.name)
		assert.Equal(t, blob, stored, tc.name)
	}

	data := bytes.Repeat([]byte("chunk data "), 500)
	d := datastore.ComputeDigest(data)
	blob := encodeChunk(t, data)
	q := chunkQuery(wid, d, len(data), blob)
	q.Set("digest", strings.ToUpper(d.String()))
	status, msg := c.postChunk("dynamic", q, blob)
	assert.Equal(t, http.StatusBadRequest, status, "pitfall 14: uppercase digests are rejected")
	assert.Contains(t, msg, "'digest': value does not match the regex pattern")

	garbage := bytes.Repeat([]byte{0xee}, 40)
	status, msg = c.postChunk("dynamic", chunkQuery(wid, d, len(data), garbage), garbage)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, msg, "magic")

	// Encrypted chunks cannot be checked and are stored as they come.
	enc := append([]byte{0x7b, 0x67, 0x85, 0xbe, 0x22, 0x2d, 0x4c, 0xf0}, make([]byte, 36+100)...)
	copy(enc[44:], randomBytes(13, 100))
	encDigest := datastore.ComputeDigest([]byte("keyed digest, unknown to the server"))
	c.data("POST", "/dynamic_chunk", chunkQuery(wid, encDigest, 100, enc), "application/octet-stream", enc)
	ok, err := st.HasChunk(encDigest)
	require.NoError(t, err)
	assert.True(t, ok)

	// Unknown writers are refused after the chunk went into the store, as
	// on PBS; a dynamic wid is not a fixed one.
	status, msg = c.postChunk("dynamic", chunkQuery(wid+1, d, len(data), blob), blob)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, fmt.Sprintf("dynamic writer '%d' not registered", wid+1), msg)
	status, msg = c.postChunk("fixed", chunkQuery(wid, d, len(data), blob), blob)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, fmt.Sprintf("fixed writer '%d' not registered", wid), msg)

	q = chunkQuery(257, d, len(data), blob)
	status, msg = c.postChunk("dynamic", q, blob)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, msg, "'wid': value must have a maximum value of 256")
}

func TestDynamicAppendRules(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	wid := c.createIndex("dynamic", "a.didx", nil)
	chunks := testChunks(14, 3, 1000)
	var ds []datastore.Digest
	for _, ch := range chunks {
		ds = append(ds, c.uploadChunk("dynamic", wid, ch))
	}
	n0, n1 := uint64(len(chunks[0])), uint64(len(chunks[1]))

	// Pitfall 3: start offsets, contiguous, in stream order.
	msg := c.fails(http.StatusBadRequest, "PUT", "/dynamic_index", nil, "application/json", appendBody(wid, ds[:1], []uint64{n0}))
	assert.Equal(t, fmt.Sprintf("dynamic writer 'a.didx' append chunk failed - got strange chunk offset (0 != %d)", n0), msg, "an end offset is refused")
	// An error stops the list; earlier entries stay applied.
	msg = c.fails(http.StatusBadRequest, "PUT", "/dynamic_index", nil, "application/json", appendBody(wid, ds[:2], []uint64{0, 0}))
	assert.Contains(t, msg, "got strange chunk offset")
	c.appendChunks("dynamic", wid, ds[1:3], []uint64{n0, n0 + n1})

	assert.Equal(t, "offset list has wrong length (1 != 2)", c.fails(http.StatusBadRequest, "PUT", "/dynamic_index", nil, "application/json", appendBody(wid, ds[:2], []uint64{0})))
	c.appendChunks("dynamic", wid, nil, nil) // an empty append is fine

	// At most MaxAppendDigests entries per append.
	many := make([]datastore.Digest, MaxAppendDigests+1)
	offs := make([]uint64, len(many))
	assert.Contains(t, c.fails(http.StatusBadRequest, "PUT", "/dynamic_index", nil, "application/json", appendBody(wid, many, offs)), "at most 128")

	// Form parameters work too (repeated keys), as PBS accepts them.
	size := n0 + n1 + uint64(len(chunks[2]))
	form := url.Values{"wid": {strconv.Itoa(wid)}, "digest-list": {ds[0].String()}, "offset-list": {strconv.FormatUint(size, 10)}}
	c.data("PUT", "/dynamic_index", nil, "application/x-www-form-urlencoded", []byte(form.Encode()))
	size += n0

	var sum datastore.DynamicChecksum
	var end uint64
	for _, i := range []int{0, 1, 2, 0} {
		end += uint64(len(chunks[i]))
		sum.Add(end, ds[i])
	}
	require.Equal(t, size, end)
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/dynamic_close", closeQuery(wid, 3, size, sum.Sum()), "", nil), "unexpected chunk count (4 != 3)")
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/dynamic_close", closeQuery(wid, 4, size, sum.Sum()), "", nil), "not registered", "a failed close removes the writer")

	// A fresh writer: wrong size, then wrong checksum.
	wid = c.createIndex("dynamic", "b.didx", nil)
	c.appendChunks("dynamic", wid, ds[:1], []uint64{0})
	var one datastore.DynamicChecksum
	one.Add(n0, ds[0])
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/dynamic_close", closeQuery(wid, 1, n0+1, one.Sum()), "", nil), "unexpected file size")
	wid = c.createIndex("dynamic", "b.didx", nil)
	c.appendChunks("dynamic", wid, ds[:1], []uint64{0})
	assert.Equal(t, "dynamic writer 'b.didx' close failed - got unexpected checksum",
		c.fails(http.StatusBadRequest, "POST", "/dynamic_close", closeQuery(wid, 1, n0, sum.Sum()), "", nil))
	// An empty dynamic archive cannot be closed.
	wid = c.createIndex("dynamic", "c.didx", nil)
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/dynamic_close", closeQuery(wid, 0, 0, [32]byte{}), "", nil), "minimum value of 1")

	// Nothing of the failed closes is left in the session's directory.
	dir := srv.stores[DefaultDatastore].GroupPath(datastore.Namespace{}, datastore.Group{Type: "host", ID: "x"})
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() {
			files, err := os.ReadDir(dir + "/" + e.Name())
			require.NoError(t, err)
			for _, f := range files {
				assert.Contains(t, []string{"c.didx.tmp_didx"}, f.Name(), "only the still open writer has a file")
			}
		}
	}
}

func TestFixedAppendRules(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "vm", "100", protoTime)
	const chunk = datastore.FixedChunkSize
	size := 2*chunk + 1000
	wid := c.createIndex("fixed", "drive-scsi0.img.fidx", url.Values{"size": {strconv.Itoa(size)}})
	full := randomBytes(15, chunk)
	tail := randomBytes(16, 1000)
	dFull := c.uploadChunk("fixed", wid, full)
	dTail := c.uploadChunk("fixed", wid, tail)

	// Pitfall 5: at most one short chunk per fixed writer; none above 4 MiB.
	short := randomBytes(17, 10)
	blob := encodeChunk(t, short)
	status, msg := c.postChunk("fixed", chunkQuery(wid, datastore.ComputeDigest(short), 10, blob), blob)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, fmt.Sprintf("fixed writer '%d' - detected multiple end chunks (chunk size too small)", wid), msg)
	big := randomBytes(18, chunk+1)
	blob = encodeChunk(t, big)
	status, msg = c.postChunk("fixed", chunkQuery(wid, datastore.ComputeDigest(big), chunk+1, blob), blob)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, msg, "got large chunk")

	put := func(d datastore.Digest, off uint64) string {
		return c.fails(http.StatusBadRequest, "PUT", "/fixed_index", nil, "application/json", appendBody(wid, []datastore.Digest{d}, []uint64{off}))
	}
	assert.Contains(t, put(dFull, 1), "got unaligned chunk")
	assert.Contains(t, put(dTail, chunk), "chunk with unexpected length", "the short chunk only fits at the end")
	assert.Contains(t, put(dFull, 2*chunk), "chunk data exceeds size")

	// Order does not matter for fixed indexes; a slot may be written twice.
	c.appendChunks("fixed", wid, []datastore.Digest{dTail, dFull, dFull, dFull}, []uint64{2 * chunk, chunk, 0, chunk})
	var sum datastore.FixedChecksum
	sum.Add(dFull)
	sum.Add(dFull)
	sum.Add(dTail)
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/fixed_close", closeQuery(wid, 3, uint64(size), sum.Sum()), "", nil), "received wrong number of chunk (4 != 3)")

	wid = c.createIndex("fixed", "drive-scsi0.img.fidx", url.Values{"size": {strconv.Itoa(size)}})
	c.appendChunks("fixed", wid, []datastore.Digest{dFull, dFull}, []uint64{0, chunk})
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/fixed_close", closeQuery(wid, 2, uint64(size), sum.Sum()), "", nil), "unexpected chunk count (3 != 2)", "a full backup must fill every slot")

	wid = c.createIndex("fixed", "drive-scsi0.img.fidx", url.Values{"size": {strconv.Itoa(size)}})
	c.appendChunks("fixed", wid, []datastore.Digest{dFull, dFull, dTail}, []uint64{0, chunk, 2 * chunk})
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/fixed_close", closeQuery(wid, 3, uint64(size)-1, sum.Sum()), "", nil), "unexpected file size")

	wid = c.createIndex("fixed", "drive-scsi0.img.fidx", url.Values{"size": {strconv.Itoa(size)}})
	c.appendChunks("fixed", wid, []datastore.Digest{dFull, dFull, dTail}, []uint64{0, chunk, 2 * chunk})
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/fixed_close", closeQuery(wid, 3, uint64(size), [32]byte{1}), "", nil), "got unexpected checksum")

	wid = c.createIndex("fixed", "drive-scsi0.img.fidx", url.Values{"size": {strconv.Itoa(size)}})
	c.appendChunks("fixed", wid, []datastore.Digest{dFull, dFull, dTail}, []uint64{0, chunk, 2 * chunk})
	c.data("POST", "/fixed_close", closeQuery(wid, 3, uint64(size), sum.Sum()), "", nil)
	f := datastore.ManifestFile{Filename: "drive-scsi0.img.fidx", Size: uint64(size), Csum: hexSum(sum.Sum())}
	c.finishBackup("vm", "100", protoTime, f)
	waitSessions(t, srv)
	ix, err := openStore(t, srv).OpenFixedIndex(datastore.Namespace{}, snapshotOf("vm", "100", protoTime), "drive-scsi0.img.fidx")
	require.NoError(t, err)
	assert.Equal(t, uint64(chunk), ix.ChunkSize(), "fixed indexes always use 4 MiB chunks")
	assert.Equal(t, sum.Sum(), ix.Checksum())
}

func TestIndexCreateChecks(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	assert.Equal(t, "wrong archive extension: 'a.fidx'", c.fails(http.StatusBadRequest, "POST", "/dynamic_index", url.Values{"archive-name": {"a.fidx"}}, "", nil))
	assert.Equal(t, "wrong archive extension: 'a.didx'", c.fails(http.StatusBadRequest, "POST", "/fixed_index", url.Values{"archive-name": {"a.didx"}, "size": {"1"}}, "", nil))
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/fixed_index", url.Values{"archive-name": {"a.fidx"}, "size": {"0"}}, "", nil), "minimum value of 1")
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/fixed_index", url.Values{"archive-name": {"a.fidx"}}, "", nil), "'size'")
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/dynamic_index", url.Values{"archive-name": {"a.didx"}, "chunk-size": {"1"}}, "", nil), "additional properties")

	// "query or JSON": the same call with a JSON body, as PBS accepts it.
	var wid1, wid2 int
	require.NoError(t, json.Unmarshal(c.data("POST", "/dynamic_index", nil, "application/json", []byte(`{"archive-name":"a.didx"}`)), &wid1))
	require.NoError(t, json.Unmarshal(c.data("POST", "/fixed_index", url.Values{"archive-name": {"b.fidx"}, "size": {"10"}}, "", nil), &wid2))
	assert.Equal(t, 1, wid1)
	assert.Equal(t, 2, wid2, "writer ids count up across fixed and dynamic writers")
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/dynamic_index", url.Values{"archive-name": {"a.didx"}}, "", nil), "a.didx", "an archive name is open only once")
}

func TestFinishRules(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	assert.Equal(t, "backup does not contain valid files (file count == 0)", c.fails(http.StatusBadRequest, "POST", "/finish", nil, "", nil))
	wid := c.createIndex("dynamic", "a.didx", nil)
	assert.Equal(t, "found open index writer - unable to finish backup", c.fails(http.StatusBadRequest, "POST", "/finish", nil, "", nil))
	d := c.uploadChunk("dynamic", wid, []byte("x"))
	c.appendChunks("dynamic", wid, []datastore.Digest{d}, []uint64{0})
	var sum datastore.DynamicChecksum
	sum.Add(1, d)
	c.data("POST", "/dynamic_close", closeQuery(wid, 1, 1, sum.Sum()), "", nil)

	// Pitfall 7: the manifest has to come before finish.
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/finish", nil, "", nil), "unable to update manifest blob")
	blob := manifestBlob(t, "host", "x", protoTime, datastore.ManifestFile{Filename: "a.didx", Size: 1, Csum: hexSum(sum.Sum())})
	bad := bytes.Clone(blob)
	bad[len(bad)-1] ^= 1
	assert.Equal(t, "Data blob has wrong CRC checksum.", c.fails(http.StatusBadRequest, "POST", "/blob", url.Values{"file-name": {datastore.ManifestName}, "encoded-size": {strconv.Itoa(len(bad))}}, "", bad))
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/blob", url.Values{"file-name": {datastore.ManifestName}, "encoded-size": {strconv.Itoa(len(blob) + 1)}}, "", blob), "got blob with unexpected length")
	assert.Contains(t, c.fails(http.StatusBadRequest, "POST", "/blob", url.Values{"file-name": {"index.json"}, "encoded-size": {strconv.Itoa(len(blob))}}, "", blob), "wrong blob file extension")
	c.postBlob(datastore.ManifestName, blob)
	c.data("POST", "/finish", nil, "", nil)

	// Once finished, every state-changing call fails.
	const finished = "backup already marked as finished."
	assert.Equal(t, finished, c.fails(http.StatusBadRequest, "POST", "/finish", nil, "", nil))
	assert.Equal(t, finished, c.fails(http.StatusBadRequest, "POST", "/dynamic_index", url.Values{"archive-name": {"b.didx"}}, "", nil))
	assert.Equal(t, finished, c.fails(http.StatusBadRequest, "POST", "/blob", url.Values{"file-name": {"x.blob"}, "encoded-size": {strconv.Itoa(len(blob))}}, "", blob))
	c.conn.Close()
	waitSessions(t, srv)

	st := openStore(t, srv)
	m, _, err := st.ReadManifest(datastore.Namespace{}, snapshotOf("host", "x", protoTime))
	require.NoError(t, err)
	assert.Equal(t, &datastore.UploadStats{Count: 1, Size: 1 + uint64(len(blob)), CompressedSize: m.Unprotected.ChunkUploadStats.CompressedSize}, m.Unprotected.ChunkUploadStats,
		"PBS adds blob bytes to the size it records")
}
