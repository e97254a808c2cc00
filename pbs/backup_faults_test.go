package pbs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

// faultBackup is a backup with every kind of call: a stream, an image, a
// blob, the manifest and finish.
type faultBackup struct {
	stream, image, conf []byte
}

func newFaultBackup() faultBackup {
	return faultBackup{
		stream: randomData(40, 1<<20),
		image:  randomData(41, 4<<20+10),
		conf:   []byte("cores: 4\n"),
	}
}

// run performs the backup in s and returns the first error.
func (b faultBackup) run(ctx context.Context, s *pbs.BackupSession) error {
	if _, err := s.UploadStream(ctx, "root.pxar", bytes.NewReader(b.stream), pbs.WithAverageChunkSize(64<<10)); err != nil {
		return err
	}
	if _, err := s.UploadImage(ctx, "disk.img", bytes.NewReader(b.image), int64(len(b.image))); err != nil {
		return err
	}
	if _, err := s.UploadBlob(ctx, "vm.conf", b.conf); err != nil {
		return err
	}
	_, err := s.Finish(ctx)
	return err
}

// A fault at any step of a backup fails it with an error that names the
// call, leaves no snapshot behind, and a retry of the whole backup (same
// snapshot time) succeeds.
func TestBackupFaultsLeaveNothingAndRetrySucceeds(t *testing.T) {
	cases := []struct {
		name  string
		fault pbstest.Fault
		call  string // what the error must name
		is    error  // a sentinel it must match
	}{
		{"connection dropped mid-upload", pbstest.DropAfterChunks(1), "_chunk", pbs.ErrSessionClosed},
		{"500 on a dynamic chunk", pbstest.FailPath("/dynamic_chunk", 2, 500), "POST /dynamic_chunk", pbs.ErrServer},
		{"500 on a fixed chunk", pbstest.FailPath("/fixed_chunk", 1, 500), "POST /fixed_chunk", pbs.ErrServer},
		{"failed dynamic open", pbstest.FailPath("/dynamic_index", 1, 400), "POST /dynamic_index", pbs.ErrBadRequest},
		{"failed append", pbstest.FailPath("/dynamic_index", 2, 400), "PUT /dynamic_index", pbs.ErrBadRequest},
		{"failed dynamic close", pbstest.FailPath("/dynamic_close", 1, 400), "POST /dynamic_close", pbs.ErrBadRequest},
		{"failed fixed close", pbstest.FailPath("/fixed_close", 1, 400), "POST /fixed_close", pbs.ErrBadRequest},
		{"failed blob", pbstest.FailPath("/blob", 1, 400), "POST /blob", pbs.ErrBadRequest},
		{"failed manifest upload", pbstest.FailPath("/blob", 2, 500), "POST /blob", pbs.ErrServer},
		{"failed finish", pbstest.FailPath("/finish", 1, 400), "POST /finish", pbs.ErrBadRequest},
		{"connection dropped at finish", pbstest.Fault{Path: "/finish", Drop: true}, "POST /finish", pbs.ErrSessionClosed},
	}
	b := newFaultBackup()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newBkEnv(t, pbstest.WithFaults(tc.fault))
			ctx := bkCtx(t)
			opts := e.opts("faulty")
			s, err := e.c.StartBackup(ctx, opts)
			require.NoError(t, err)
			err = b.run(ctx, s)
			require.Error(t, err)
			t.Logf("error: %v", err)
			assert.Contains(t, err.Error(), tc.call)
			assert.ErrorIs(t, err, tc.is)
			assert.Zero(t, e.srv.PendingFaults(), "the fault was reached")
			if errors.Is(tc.is, pbs.ErrServer) || errors.Is(tc.is, pbs.ErrBadRequest) {
				var perr *pbs.Error
				require.ErrorAs(t, err, &perr)
				assert.Contains(t, tc.call, perr.Path)
			}

			// Later calls say the session failed, with the first error.
			_, err2 := s.UploadBlob(ctx, "late.conf", []byte("x"))
			assert.ErrorIs(t, err2, pbs.ErrSessionFailed)

			assert.Empty(t, e.snapshots("faulty"), "no partial snapshot")
			entries, _ := e.store().ListGroups(ctx, datastore.Namespace{})
			for _, g := range entries {
				assert.Zero(t, g.BackupCount, "group %s holds no snapshot directory", g.BackupID)
			}

			retry, err := e.c.StartBackup(ctx, opts)
			require.NoError(t, err)
			require.NoError(t, b.run(ctx, retry))
			items := e.snapshots("faulty")
			require.Len(t, items, 1)
			assert.Equal(t, b.stream, e.restore(retry.Snapshot(), "root.pxar"))
			assert.Equal(t, b.image, e.restore(retry.Snapshot(), "disk.img"))
		})
	}
}

// cancelReader cancels a context once n bytes have been read.
type cancelReader struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	if c.n -= k; c.n <= 0 {
		c.cancel()
	}
	return k, err
}

// Cancelling the context of an upload midway aborts the session: the call
// returns the context's error, nothing is kept, and a retry succeeds.
func TestBackupCancelledUploadLeavesNothing(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	data := randomData(50, 4<<20)
	opts := e.opts("cancel")
	s, err := e.c.StartBackup(ctx, opts)
	require.NoError(t, err)
	upCtx, cancel := context.WithCancel(ctx)
	_, err = s.UploadStream(upCtx, "root.pxar", &cancelReader{r: bytes.NewReader(data), n: 1 << 20, cancel: cancel},
		pbs.WithAverageChunkSize(64<<10))
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = s.Finish(ctx)
	assert.ErrorIs(t, err, pbs.ErrSessionFailed)
	assert.Empty(t, e.snapshots("cancel"))

	s, err = e.c.StartBackup(ctx, opts)
	require.NoError(t, err)
	_, err = s.UploadStream(ctx, "root.pxar", bytes.NewReader(data))
	require.NoError(t, err)
	_, err = s.Finish(ctx)
	require.NoError(t, err)
	assert.Equal(t, data, e.restore(s.Snapshot(), "root.pxar"))
}

// The context given to StartBackup governs the session: when it ends, the
// session is aborted and the server discards the snapshot.
func TestBackupSessionContextAborts(t *testing.T) {
	e := newBkEnv(t)
	sessCtx, cancel := context.WithCancel(bkCtx(t))
	s, err := e.c.StartBackup(sessCtx, e.opts("ctx"))
	require.NoError(t, err)
	_, err = s.UploadBlob(bkCtx(t), "a.conf", []byte("a"))
	require.NoError(t, err)
	cancel()
	_, err = s.Finish(bkCtx(t))
	require.Error(t, err)
	assert.ErrorIs(t, err, pbs.ErrAborted)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, e.snapshots("ctx"))
}

// Abort discards the snapshot; Abort after Finish changes nothing.
func TestBackupAbort(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	s := e.start("abort")
	_, err := s.UploadStream(ctx, "a.pxar", bytes.NewReader(randomData(60, 1<<20)))
	require.NoError(t, err)
	require.NoError(t, s.Abort())
	require.NoError(t, s.Abort(), "idempotent")
	_, err = s.Finish(ctx)
	assert.ErrorIs(t, err, pbs.ErrAborted)
	assert.Empty(t, e.snapshots("abort"))

	s = e.start("abort")
	_, err = s.UploadBlob(ctx, "a.conf", []byte("a"))
	require.NoError(t, err)
	_, err = s.Finish(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Abort())
	assert.Len(t, e.snapshots("abort"), 1, "a finished snapshot stays")
	_, err = s.UploadBlob(ctx, "b.conf", []byte("b"))
	assert.ErrorIs(t, err, pbs.ErrFinished)
}

// A previous manifest that cannot be downloaded only disables reuse.
func TestBackupPreviousManifestFailureDisablesReuse(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	data := randomData(70, 5<<20)
	e.backupOne("prev", "a.pxar", data)

	e.srv.InjectFault(pbstest.FailPath("/previous", 1, http.StatusInternalServerError))
	s := e.start("prev")
	_, ok := s.Previous()
	assert.True(t, ok, "the previous snapshot is known")
	assert.Nil(t, s.PreviousManifest(), "but its manifest failed to download")
	res, err := s.UploadStream(ctx, "a.pxar", bytes.NewReader(data))
	require.NoError(t, err)
	assert.Zero(t, res.Stats.ReusedChunks)
	_, err = s.Finish(ctx)
	require.NoError(t, err)
}

// Slow answers only slow the backup down.
func TestBackupSlowServer(t *testing.T) {
	e := newBkEnv(t, pbstest.WithFaults(pbstest.SlowResponses(20*time.Millisecond)))
	ctx := bkCtx(t)
	data := randomData(80, 3<<20)
	s := e.start("slow", func(o *pbs.BackupOptions) { o.MaxChunksInFlight = 2 })
	_, err := s.UploadStream(ctx, "a.pxar", bytes.NewReader(data), pbs.WithAverageChunkSize(64<<10))
	require.NoError(t, err)
	_, err = s.Finish(ctx)
	require.NoError(t, err)
	assert.Equal(t, data, e.restore(s.Snapshot(), "a.pxar"))
}

// slowReader yields data in small pieces with a pause, so that an upload
// is still running when the test acts.
type slowReader struct {
	r     io.Reader
	pause time.Duration
}

func (s slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.pause)
	return s.r.Read(p[:min(len(p), 64<<10)])
}

// Abort while an upload runs: the upload fails with ErrAborted, nothing
// is kept.
func TestBackupAbortDuringUpload(t *testing.T) {
	e := newBkEnv(t)
	s := e.start("abortrun")
	done := make(chan error, 1)
	go func() {
		_, err := s.UploadStream(bkCtx(t), "a.pxar", slowReader{bytes.NewReader(randomData(180, 4<<20)), 2 * time.Millisecond},
			pbs.WithAverageChunkSize(64<<10))
		done <- err
	}()
	time.Sleep(30 * time.Millisecond)
	require.NoError(t, s.Abort())
	err := <-done
	require.Error(t, err)
	assert.ErrorIs(t, err, pbs.ErrAborted)
	assert.Empty(t, e.snapshots("abortrun"))
}
