package pbstest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/h2upgrade"
)

func TestFaultSetCounting(t *testing.T) {
	var fs faultSet
	fs.add(Fault{Path: "/*_chunk", Nth: 2, Status: 500}, Fault{Nth: 3, Drop: true}, Fault{Path: "/finish", Repeat: true, Delay: time.Second})
	assert.Equal(t, faultAction{}, fs.hit("/dynamic_chunk", false))
	assert.Equal(t, faultAction{status: 500, message: DefaultFaultMessage}, fs.hit("/fixed_chunk", false), "the second chunk upload")
	assert.Equal(t, faultAction{drop: true}, fs.hit("/dynamic_index", false), "the third session request of any path")
	assert.Equal(t, faultAction{}, fs.hit("/dynamic_chunk", false), "one-shot faults are gone")
	assert.Equal(t, faultAction{delay: time.Second}, fs.hit("/finish", false))
	assert.Equal(t, faultAction{delay: time.Second}, fs.hit("/finish", false), "repeating")
	assert.Equal(t, 1, fs.pending())
	assert.Equal(t, faultAction{}, fs.hit("/api2/json/backup", true), "an empty path never matches upgrades")

	fs.clear()
	fs.add(Fault{Path: "/api2/json/backup", Status: 503, Message: "busy"}, Fault{Path: "[", Status: 500})
	assert.Equal(t, faultAction{status: 503, message: "busy"}, fs.hit("/api2/json/backup", true))
	assert.Equal(t, faultAction{}, fs.hit("[", false), "a malformed pattern matches nothing")

	var none *faultSet
	assert.Equal(t, faultAction{}, none.hit("/x", false))
}

func TestFaultConstructorsAndOption(t *testing.T) {
	assert.Equal(t, Fault{Path: "/*_chunk", Nth: 3, Drop: true}, DropAfterChunks(2))
	assert.Equal(t, Fault{Nth: 4, Status: 500}, FailRequest(4, 500))
	assert.Equal(t, Fault{Path: "/fixed_close", Nth: 1, Status: 400}, FailPath("/fixed_close", 1, 400))
	assert.Equal(t, Fault{Repeat: true, Delay: time.Millisecond}, SlowResponses(time.Millisecond))
	assert.Equal(t, `fault on "/*_chunk" #3: drop connection`, DropAfterChunks(2).String())
	assert.Equal(t, "fault on any session request #1+, delay 1ms", SlowResponses(time.Millisecond).String())

	_, err := Start(WithFaults(Fault{Path: "["}))
	assert.ErrorContains(t, err, "bad path pattern")
	_, err = Start(WithFaults(Fault{Nth: -1}))
	assert.ErrorContains(t, err, "invalid")
}

// backupAttempt runs a whole small backup of host/retry at epoch and
// returns the first error a request met (transport error or failed
// status), leaving the session closed either way.
func backupAttempt(t *testing.T, srv *Server, epoch int64, chunks [][]byte) error {
	t.Helper()
	c, err := protoDial(t, srv, srv.AdminToken, "/api2/json/backup", h2upgrade.BackupProtocol, backupQuery("host", "retry", epoch))
	if err != nil {
		return err
	}
	defer c.conn.Close()
	call := func(method, path string, q url.Values, ct string, body []byte) ([]byte, error) {
		status, data, err := c.try(method, path, q, ct, body)
		if err != nil {
			return nil, err
		}
		if status != http.StatusOK {
			return nil, &h2upgrade.UpgradeError{Status: status, Message: string(data)}
		}
		return data, nil
	}
	if _, err := call("POST", "/dynamic_index", url.Values{"archive-name": {"a.didx"}}, "", nil); err != nil {
		return err
	}
	var sum datastore.DynamicChecksum
	var digests []datastore.Digest
	var offsets []uint64
	var off uint64
	for _, ch := range chunks {
		d := datastore.ComputeDigest(ch)
		blob := encodeChunk(t, ch)
		if _, err := call("POST", "/dynamic_chunk", chunkQuery(1, d, len(ch), blob), "application/octet-stream", blob); err != nil {
			return err
		}
		digests, offsets = append(digests, d), append(offsets, off)
		off += uint64(len(ch))
		sum.Add(off, d)
	}
	if _, err := call("PUT", "/dynamic_index", nil, "application/json", appendBody(1, digests, offsets)); err != nil {
		return err
	}
	if _, err := call("POST", "/dynamic_close", closeQuery(1, len(chunks), off, sum.Sum()), "", nil); err != nil {
		return err
	}
	m := manifestBlob(t, "host", "retry", epoch, datastore.ManifestFile{Filename: "a.didx", Size: off, Csum: hexSum(sum.Sum())})
	if _, err := call("POST", "/blob", url.Values{"file-name": {datastore.ManifestName}, "encoded-size": {strconv.Itoa(len(m))}}, "", m); err != nil {
		return err
	}
	_, err = call("POST", "/finish", nil, "", nil)
	return err
}

// snapshotsOf lists the visible snapshots of srv's store.
func snapshotsOf(t *testing.T, srv *Server) []datastore.SnapshotListItem {
	t.Helper()
	items, err := openStore(t, srv).ListSnapshots(context.Background(), datastore.Namespace{}, "", "")
	require.NoError(t, err)
	return items
}

// TestFaultsLeaveNoPartialSnapshotAndRetrySucceeds injects a fault at
// every step of a backup: whatever fails, nothing is visible afterwards,
// the error says what happened, and running the whole backup again
// succeeds.
func TestFaultsLeaveNoPartialSnapshotAndRetrySucceeds(t *testing.T) {
	chunks := testChunks(30, 4, 2048)
	for name, tc := range map[string]struct {
		fault   Fault
		dropped bool
		status  int
	}{
		"connection dropped mid-upload": {fault: DropAfterChunks(2), dropped: true},
		"500 on a chunk":                {fault: FailPath("/dynamic_chunk", 3, http.StatusInternalServerError), status: 500},
		"failed append":                 {fault: FailPath("/dynamic_index", 2, http.StatusBadRequest), status: 400},
		"failed close":                  {fault: FailPath("/dynamic_close", 1, http.StatusBadRequest), status: 400},
		"failed manifest upload":        {fault: FailPath("/blob", 1, http.StatusServiceUnavailable), status: 503},
		"failed finish":                 {fault: FailPath("/finish", 1, http.StatusInternalServerError), status: 500},
		"dropped at finish":             {fault: Fault{Path: "/finish", Drop: true}, dropped: true},
		"refused upgrade":               {fault: Fault{Path: "/api2/json/backup", Status: http.StatusServiceUnavailable}, status: 503},
		"dropped upgrade":               {fault: Fault{Path: "/api2/json/backup", Drop: true}, dropped: true},
	} {
		t.Run(name, func(t *testing.T) {
			srv := NewServer(t, WithFaults(tc.fault))
			err := backupAttempt(t, srv, protoTime, chunks)
			require.Error(t, err)
			var ue *h2upgrade.UpgradeError
			if tc.dropped {
				assert.False(t, errors.As(err, &ue), "a dropped connection is a transport error: %v", err)
			} else {
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, tc.status, ue.Status)
				assert.Equal(t, DefaultFaultMessage, ue.Message)
			}
			assert.Equal(t, 0, srv.PendingFaults(), "the fault was reached")
			waitSessions(t, srv)
			assert.Empty(t, snapshotsOf(t, srv), "no partial snapshot")

			require.NoError(t, backupAttempt(t, srv, protoTime, chunks), "a retry of the whole backup succeeds")
			waitSessions(t, srv)
			assert.Len(t, snapshotsOf(t, srv), 1)
		})
	}
}

func TestFaultRejectedChunkIsNotStored(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	wid := c.createIndex("dynamic", "a.didx", nil)
	srv.InjectFault(FailPath("/dynamic_chunk", 1, http.StatusInternalServerError))
	data := []byte("a chunk")
	blob := encodeChunk(t, data)
	d := datastore.ComputeDigest(data)
	status, _ := c.postChunk("dynamic", chunkQuery(wid, d, len(data), blob), blob)
	assert.Equal(t, http.StatusInternalServerError, status)
	ok, err := srv.stores[DefaultDatastore].HasChunk(d)
	require.NoError(t, err)
	assert.False(t, ok)
	c.fails(http.StatusBadRequest, "PUT", "/dynamic_index", nil, "application/json", appendBody(wid, []datastore.Digest{d}, []uint64{0}))
	c.uploadChunk("dynamic", wid, data)
	c.appendChunks("dynamic", wid, []datastore.Digest{d}, []uint64{0})
}

func TestSlowResponses(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	srv.InjectFault(SlowResponses(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.conn.Do(ctx, "GET", "/previous_backup_time", nil, "", nil)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	srv.ClearFaults()
	assert.Equal(t, 0, srv.PendingFaults())
	srv.InjectFault(SlowResponses(time.Millisecond))
	c.data("GET", "/previous_backup_time", nil, "", nil)
	assert.Equal(t, 1, srv.PendingFaults(), "a repeating fault stays armed")
}

// A request whose context the client cancels mid-upload resets only its
// stream: the chunk is not stored, the session goes on.
func TestCancelledUploadKeepsSession(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	wid := c.createIndex("dynamic", "a.didx", nil)
	data := randomBytes(50, 100000)
	d := datastore.ComputeDigest(data)
	blob := encodeChunk(t, data)
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		resp, err := c.conn.Do(ctx, "POST", "/dynamic_chunk", chunkQuery(wid, d, len(data), blob), "application/octet-stream", pr)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	_, err := pw.Write(blob[:1000])
	require.NoError(t, err)
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
	pw.Close()

	ok, err := srv.stores[DefaultDatastore].HasChunk(d)
	require.NoError(t, err)
	assert.False(t, ok)
	c.uploadChunk("dynamic", wid, data)
	c.appendChunks("dynamic", wid, []datastore.Digest{d}, []uint64{0})
	assert.Equal(t, 1, srv.ActiveSessions())
}
