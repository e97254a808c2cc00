package pbs_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

// bkEnv is a mock server with an admin client, for the protocol tests.
type bkEnv struct {
	t     testing.TB
	srv   *pbstest.Server
	c     *pbs.Client
	clock time.Time // next backup time handed out
}

func newBkEnv(t testing.TB, opts ...pbstest.Option) *bkEnv {
	t.Helper()
	srv := pbstest.NewServer(t, opts...)
	c, err := pbs.NewClient(srv.URL, pbs.WithCredentials(srv.AdminToken), pbs.WithFingerprint(srv.Fingerprint),
		pbs.WithRetryPolicy(pbs.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	return &bkEnv{t: t, srv: srv, c: c, clock: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
}

// bkCtx is a context bounded for one test.
func bkCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// opts returns backup options for group host/<id> at the next time.
func (e *bkEnv) opts(id string) pbs.BackupOptions {
	e.clock = e.clock.Add(time.Minute)
	return pbs.BackupOptions{Datastore: e.srv.Datastore, Type: datastore.TypeHost, ID: id, Time: e.clock}
}

// start opens a backup session of host/<id>.
func (e *bkEnv) start(id string, mod ...func(*pbs.BackupOptions)) *pbs.BackupSession {
	e.t.Helper()
	o := e.opts(id)
	for _, m := range mod {
		m(&o)
	}
	s, err := e.c.StartBackup(bkCtx(e.t), o)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { _ = s.Abort() })
	return s
}

// store opens the mock's datastore directory with package datastore.
func (e *bkEnv) store() *datastore.Store {
	e.t.Helper()
	st, err := datastore.Open(e.srv.DatastorePath)
	require.NoError(e.t, err)
	return st
}

// settle waits until the server has ended every session (and removed
// what unfinished ones left).
func (e *bkEnv) settle() {
	e.t.Helper()
	require.NoError(e.t, e.srv.WaitSessions(bkCtx(e.t)))
}

// snapshots lists the snapshots of host/<id> after every session ended.
func (e *bkEnv) snapshots(id string) []datastore.SnapshotListItem {
	e.t.Helper()
	e.settle()
	return e.listNow(id)
}

// listNow lists the snapshots of host/<id> as they are now.
func (e *bkEnv) listNow(id string) []datastore.SnapshotListItem {
	e.t.Helper()
	items, err := e.store().ListSnapshots(bkCtx(e.t), datastore.Namespace{}, datastore.TypeHost, id)
	require.NoError(e.t, err)
	return items
}

// restore reads archive name of snap back.
func (e *bkEnv) restore(snap datastore.Snapshot, name string) []byte {
	e.t.Helper()
	r, err := e.c.StartReader(bkCtx(e.t), pbs.ReaderOptions{Datastore: e.srv.Datastore, Snapshot: snap})
	require.NoError(e.t, err)
	defer r.Close()
	var buf bytes.Buffer
	n, err := r.RestoreArchive(bkCtx(e.t), name, &buf)
	require.NoError(e.t, err)
	require.EqualValues(e.t, buf.Len(), n)
	return buf.Bytes()
}

// randomData returns n reproducible pseudo-random bytes.
func randomData(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), 1})
	_, _ = r.Read(b)
	return b
}

// textData returns n bytes of compressible text with some variation.
func textData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	var buf bytes.Buffer
	words := []string{"backup", "chunk", "index", "datastore", "snapshot", "manifest", "proxmox", "restore"}
	for buf.Len() < n {
		fmt.Fprintf(&buf, "%08d %s %s %d\n", r.IntN(1e8), words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(1000))
	}
	return buf.Bytes()[:n]
}

// backupOne backs data up as stream name in a finished snapshot of
// host/<id> and waits until the server has settled.
func (e *bkEnv) backupOne(id, name string, data []byte, opts ...pbs.UploadOption) *pbs.BackupResult {
	e.t.Helper()
	s := e.start(id)
	_, err := s.UploadStream(bkCtx(e.t), name, bytes.NewReader(data), opts...)
	require.NoError(e.t, err)
	res, err := s.Finish(bkCtx(e.t))
	require.NoError(e.t, err)
	e.settle()
	return res
}

// readerOpts returns reader options for snap in the mock's datastore.
func readerOpts(e *bkEnv, snap datastore.Snapshot) pbs.ReaderOptions {
	return pbs.ReaderOptions{Datastore: e.srv.Datastore, Snapshot: snap}
}
