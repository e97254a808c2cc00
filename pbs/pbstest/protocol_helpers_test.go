package pbstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/h2upgrade"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// This file drives the backup and reader protocols by hand, with
// h2upgrade.Dial for the transport and package datastore for blobs and
// indexes, so the server's tests depend on nothing of package pbs.

// protoTime is the backup time the tests start from.
const protoTime = int64(1_700_000_000)

// protoConn is one upgraded session of a test.
type protoConn struct {
	t    testing.TB
	conn *h2upgrade.Conn
}

// protoURL is the upgrade URL of srv for path (e.g. "/api2/json/backup")
// and query.
func protoURL(t testing.TB, srv *Server, path string, q url.Values) *url.URL {
	u, err := url.Parse(srv.URL + path)
	require.NoError(t, err)
	u.RawQuery = q.Encode()
	return u
}

// protoDial opens a session at path with tok's credentials.
func protoDial(t testing.TB, srv *Server, tok auth.Token, path, protocol string, q url.Values) (*protoConn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := h2upgrade.Dial(ctx, h2upgrade.DialConfig{
		URL:      protoURL(t, srv, path, q),
		Protocol: protocol,
		Authorize: func(r *http.Request) error {
			r.Header.Set("Authorization", tok.PBSHeader())
			return nil
		},
		TLSConfig: tlsFor(srv),
	})
	if err != nil {
		return nil, err
	}
	pc := &protoConn{t: t, conn: conn}
	t.Cleanup(func() { conn.Close() })
	return pc, nil
}

// backupQuery is the upgrade query of a backup of typ/id at epoch in
// store1's root namespace, as the reference client sends it.
func backupQuery(typ, id string, epoch int64) url.Values {
	return url.Values{
		"store": {DefaultDatastore}, "backup-type": {typ}, "backup-id": {id},
		"backup-time": {strconv.FormatInt(epoch, 10)}, "debug": {"false"}, "benchmark": {"false"},
	}
}

// readerQuery is the upgrade query of a reader session.
func readerQuery(typ, id string, epoch int64) url.Values {
	q := backupQuery(typ, id, epoch)
	q.Del("benchmark")
	return q
}

// startBackupSession opens a backup session as the admin token and
// fails the test if the upgrade is refused.
func startBackupSession(t testing.TB, srv *Server, typ, id string, epoch int64) *protoConn {
	t.Helper()
	c, err := protoDial(t, srv, srv.AdminToken, "/api2/json/backup", h2upgrade.BackupProtocol, backupQuery(typ, id, epoch))
	require.NoError(t, err)
	return c
}

// startReaderSession opens a reader session as the admin token.
func startReaderSession(t testing.TB, srv *Server, typ, id string, epoch int64) *protoConn {
	t.Helper()
	c, err := protoDial(t, srv, srv.AdminToken, "/api2/json/reader", h2upgrade.ReaderProtocol, readerQuery(typ, id, epoch))
	require.NoError(t, err)
	return c
}

// do sends one session request; ct "" means the form type. It returns
// the status and body; a transport error fails the test.
func (c *protoConn) do(method, path string, q url.Values, ct string, body []byte) (int, []byte) {
	c.t.Helper()
	status, data, err := c.try(method, path, q, ct, body)
	require.NoError(c.t, err, "%s %s", method, path)
	return status, data
}

// try is do returning transport errors.
func (c *protoConn) try(method, path string, q url.Values, ct string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	resp, err := c.conn.Do(ctx, method, path, q, ct, rd)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// data sends a request that must succeed and returns its "data" member.
func (c *protoConn) data(method, path string, q url.Values, ct string, body []byte) json.RawMessage {
	c.t.Helper()
	status, resp := c.do(method, path, q, ct, body)
	require.Equal(c.t, http.StatusOK, status, "%s %s: %s", method, path, resp)
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	require.NoError(c.t, json.Unmarshal(resp, &env), "%s %s: %s", method, path, resp)
	return env.Data
}

// fails sends a request that must fail with status and returns the
// plain-text message.
func (c *protoConn) fails(status int, method, path string, q url.Values, ct string, body []byte) string {
	c.t.Helper()
	got, resp := c.do(method, path, q, ct, body)
	require.Equal(c.t, status, got, "%s %s: %s", method, path, resp)
	return string(resp)
}

// encodeChunk encodes data as a compressed chunk blob.
func encodeChunk(t testing.TB, data []byte) []byte {
	blob, err := datastore.EncodeBlob(data, true)
	require.NoError(t, err)
	return blob
}

// chunkQuery is the query of a chunk upload of data encoded as blob.
func chunkQuery(wid int, d datastore.Digest, size int, blob []byte) url.Values {
	return url.Values{
		"wid": {strconv.Itoa(wid)}, "digest": {d.String()},
		"size": {strconv.Itoa(size)}, "encoded-size": {strconv.Itoa(len(blob))},
	}
}

// createIndex opens an index writer and returns its wid.
func (c *protoConn) createIndex(kind, name string, extra url.Values) int {
	c.t.Helper()
	q := url.Values{"archive-name": {name}}
	for k, v := range extra {
		q[k] = v
	}
	var wid int
	require.NoError(c.t, json.Unmarshal(c.data("POST", "/"+kind+"_index", q, "", nil), &wid))
	return wid
}

// uploadChunk uploads data as a chunk of writer wid and returns its
// digest.
func (c *protoConn) uploadChunk(kind string, wid int, data []byte) datastore.Digest {
	c.t.Helper()
	d := datastore.ComputeDigest(data)
	blob := encodeChunk(c.t, data)
	var got string
	require.NoError(c.t, json.Unmarshal(c.data("POST", "/"+kind+"_chunk", chunkQuery(wid, d, len(data), blob), "application/octet-stream", blob), &got))
	require.Equal(c.t, d.String(), got)
	return d
}

// appendBody is the JSON body of an append.
func appendBody(wid int, digests []datastore.Digest, offsets []uint64) []byte {
	if digests == nil {
		digests = []datastore.Digest{}
	}
	if offsets == nil {
		offsets = []uint64{}
	}
	body, _ := json.Marshal(map[string]any{"wid": wid, "digest-list": digests, "offset-list": offsets})
	return body
}

// appendChunks appends digests at start offsets to writer wid.
func (c *protoConn) appendChunks(kind string, wid int, digests []datastore.Digest, offsets []uint64) {
	c.t.Helper()
	c.data("PUT", "/"+kind+"_index", nil, "application/json", appendBody(wid, digests, offsets))
}

// closeQuery is the query of a close call.
func closeQuery(wid int, count int, size uint64, csum [32]byte) url.Values {
	return url.Values{
		"wid": {strconv.Itoa(wid)}, "chunk-count": {strconv.Itoa(count)},
		"size": {strconv.FormatUint(size, 10)}, "csum": {hexSum(csum)},
	}
}

func hexSum(b [32]byte) string { return datastore.Digest(b).String() }

// uploadDynamic stores chunks as the dynamic archive name as the
// reference client does: every new chunk uploaded once, appends in
// batches with start offsets, then the close with count, size and
// checksum. Chunks in known are only appended.
func (c *protoConn) uploadDynamic(name string, chunks [][]byte, known map[datastore.Digest]bool) datastore.ManifestFile {
	c.t.Helper()
	wid := c.createIndex("dynamic", name, nil)
	var sum datastore.DynamicChecksum
	var digests []datastore.Digest
	var offsets []uint64
	var offset uint64
	seen := map[datastore.Digest]bool{}
	for d := range known {
		seen[d] = true
	}
	for _, data := range chunks {
		d := datastore.ComputeDigest(data)
		if !seen[d] {
			c.uploadChunk("dynamic", wid, data)
			seen[d] = true
		}
		digests, offsets = append(digests, d), append(offsets, offset)
		offset += uint64(len(data))
		sum.Add(offset, d)
		if len(digests) == MaxAppendDigests {
			c.appendChunks("dynamic", wid, digests, offsets)
			digests, offsets = nil, nil
		}
	}
	if len(digests) > 0 {
		c.appendChunks("dynamic", wid, digests, offsets)
	}
	csum := sum.Sum()
	c.data("POST", "/dynamic_close", closeQuery(wid, len(chunks), offset, csum), "", nil)
	return datastore.ManifestFile{Filename: name, CryptMode: datastore.CryptNone, Size: offset, Csum: hexSum(csum)}
}

// uploadFixed stores image as the fixed archive name in 4 MiB chunks
// with a short tail.
func (c *protoConn) uploadFixed(name string, image []byte) datastore.ManifestFile {
	c.t.Helper()
	wid := c.createIndex("fixed", name, url.Values{"size": {strconv.Itoa(len(image))}})
	var sum datastore.FixedChecksum
	seen := map[datastore.Digest]bool{}
	count := 0
	for off := 0; off < len(image); off += datastore.FixedChunkSize {
		data := image[off:min(off+datastore.FixedChunkSize, len(image))]
		d := datastore.ComputeDigest(data)
		if !seen[d] {
			c.uploadChunk("fixed", wid, data)
			seen[d] = true
		}
		c.appendChunks("fixed", wid, []datastore.Digest{d}, []uint64{uint64(off)})
		sum.Add(d)
		count++
	}
	csum := sum.Sum()
	c.data("POST", "/fixed_close", closeQuery(wid, count, uint64(len(image)), csum), "", nil)
	return datastore.ManifestFile{Filename: name, CryptMode: datastore.CryptNone, Size: uint64(len(image)), Csum: hexSum(csum)}
}

// uploadBlob stores data as the blob name and returns its manifest entry
// (size and SHA-256 of the encoded blob).
func (c *protoConn) uploadBlob(name string, data []byte) datastore.ManifestFile {
	c.t.Helper()
	blob, err := datastore.EncodeBlob(data, true)
	require.NoError(c.t, err)
	c.postBlob(name, blob)
	sum := sha256.Sum256(blob)
	return datastore.ManifestFile{Filename: name, CryptMode: datastore.CryptNone, Size: uint64(len(blob)), Csum: hexSum(sum)}
}

// postBlob uploads an encoded blob.
func (c *protoConn) postBlob(name string, blob []byte) {
	c.t.Helper()
	q := url.Values{"file-name": {name}, "encoded-size": {strconv.Itoa(len(blob))}}
	c.data("POST", "/blob", q, "application/octet-stream", blob)
}

// manifestBlob encodes the manifest of typ/id/epoch listing files.
func manifestBlob(t testing.TB, typ, id string, epoch int64, files ...datastore.ManifestFile) []byte {
	m := &datastore.Manifest{BackupType: typ, BackupID: id, BackupTime: epoch, Files: files}
	blob, err := m.EncodeBlob(nil)
	require.NoError(t, err)
	return blob
}

// finishBackup uploads the manifest, finishes and closes the session.
func (c *protoConn) finishBackup(typ, id string, epoch int64, files ...datastore.ManifestFile) {
	c.t.Helper()
	c.postBlob(datastore.ManifestName, manifestBlob(c.t, typ, id, epoch, files...))
	c.data("POST", "/finish", nil, "", nil)
	c.conn.Close()
}

// waitSessions waits until the server has cleaned up after every session.
func waitSessions(t testing.TB, srv *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, srv.WaitSessions(ctx))
}

// openStore opens srv's datastore directory as a user of package
// datastore would.
func openStore(t testing.TB, srv *Server) *datastore.Store {
	st, err := datastore.Open(srv.DatastorePath)
	require.NoError(t, err)
	return st
}

// snapshotOf is the snapshot typ/id/epoch.
func snapshotOf(typ, id string, epoch int64) datastore.Snapshot {
	return datastore.Snapshot{Group: datastore.Group{Type: datastore.BackupType(typ), ID: id}, Time: time.Unix(epoch, 0).UTC()}
}

// addToken creates user@pbs with token "t" on srv, both holding role on
// path (a token never exceeds its user), and returns the user's token.
// A user without a role gets none.
func addToken(t testing.TB, srv *Server, user, role, path string) auth.Token {
	t.Helper()
	u, err := auth.ParseUserid(user)
	require.NoError(t, err)
	id, err := auth.NewTokenID(u, "t")
	require.NoError(t, err)
	secret := mockcore.NewTokenSecret()
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.users[u] == nil {
		srv.users[u] = &userRecord{id: u}
	}
	srv.tokens[id] = &tokenRecord{id: id}
	srv.secrets.Set(id, secret)
	if role != "" {
		require.NoError(t, srv.policy.Grant(acl.EntryFor(path, u.Authid(), role, true)))
		require.NoError(t, srv.policy.Grant(acl.EntryFor(path, id, role, true)))
	}
	tok, err := auth.NewToken(id, auth.NewSecret(secret))
	require.NoError(t, err)
	return tok
}

// testChunks returns n pseudo-random chunks of sizes around avg, seeded.
func testChunks(seed byte, n, avg int) [][]byte {
	out := make([][]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range out {
		size := avg/2 + int(x%uint32(avg))
		b := make([]byte, size)
		for j := range b {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			b[j] = byte(x)
		}
		out[i] = b
	}
	return out
}

// tlsFor returns a client TLS config trusting srv's certificate.
func tlsFor(srv *Server) *tls.Config {
	return &tls.Config{RootCAs: srv.httpSrv.CertPool(), MinVersion: tls.VersionTLS12}
}

// randomBytes returns n pseudo-random bytes, seeded.
func randomBytes(seed byte, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 7
	for j := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[j] = byte(x)
	}
	return b
}

// raw sends a GET that must succeed with a raw (octet-stream) answer and
// returns its bytes.
func (c *protoConn) raw(path string, q url.Values) []byte {
	c.t.Helper()
	status, body := c.do("GET", path, q, "", nil)
	require.Equal(c.t, http.StatusOK, status, "GET %s: %s", path, body)
	return body
}
