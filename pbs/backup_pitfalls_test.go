package pbs_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
)

// More items of the pitfalls list (pbs-protocol.md 11) that concern the
// client; the wire-level ones are in backup_wire_test.go.

// Pitfall 9: the previous snapshot is the newest finished one, unless its
// verification failed; then there is none, and nothing is reused.
func TestBackupPreviousSkipsFailedVerify(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	data := randomData(170, 2<<20)
	res := e.backupOne("verify", "a.pxar", data)

	s := e.start("verify")
	prev, ok := s.Previous()
	require.True(t, ok)
	assert.Equal(t, res.Snapshot.Time, prev)
	require.NotNil(t, s.PreviousManifest())
	assert.Equal(t, res.Manifest.Files, s.PreviousManifest().Files)
	require.NoError(t, s.Abort())
	e.settle()

	err := e.store().UpdateManifest(ctx, datastore.Namespace{}, res.Snapshot, func(m *datastore.Manifest) error {
		m.Unprotected.VerifyState = &datastore.VerifyState{UPID: "UPID:test", State: datastore.VerifyStateFailed}
		return nil
	})
	require.NoError(t, err)
	s = e.start("verify")
	_, ok = s.Previous()
	assert.False(t, ok, "a failed verify means no previous snapshot")
	up, err := s.UploadStream(ctx, "a.pxar", bytes.NewReader(data))
	require.NoError(t, err)
	assert.Zero(t, up.Stats.ReusedChunks)
	_, err = s.Finish(ctx)
	require.NoError(t, err)
}

// A previous manifest that lists an index the snapshot lacks: the server
// answers GET previous with 400, and the archive is uploaded in full.
func TestBackupMissingPreviousArchive(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	data := randomData(171, 2<<20)
	res := e.backupOne("missing", "a.pxar", data)
	dir := e.store().SnapshotPath(datastore.Namespace{}, res.Snapshot)
	require.NoError(t, os.Remove(filepath.Join(dir, "a.pxar.didx")))

	var log callLog
	lctx := log.ctx(ctx)
	s, err := e.c.StartBackup(lctx, e.opts("missing"))
	require.NoError(t, err)
	up, err := s.UploadStream(lctx, "a.pxar", bytes.NewReader(data))
	require.NoError(t, err)
	assert.Zero(t, up.Stats.ReusedChunks)
	_, err = s.Finish(lctx)
	require.NoError(t, err)
	var refused error
	for _, ev := range log.all() {
		if ev.Done && ev.Path == "/previous" && ev.Query.Get("archive-name") == "a.pxar.didx" {
			refused = ev.Err
		}
	}
	var perr *pbs.Error
	require.ErrorAs(t, refused, &perr)
	assert.Equal(t, 400, perr.Status)
}

// Pitfall 12 and transport security: a session checks the server's
// certificate like every other call; a wrong pinned fingerprint fails the
// upgrade, before any credentials are sent.
func TestBackupWrongFingerprint(t *testing.T) {
	e := newBkEnv(t)
	var other auth.Fingerprint
	other[0] = 1
	c, err := pbs.NewClient(e.srv.URL, pbs.WithCredentials(e.srv.AdminToken), pbs.WithFingerprint(other))
	require.NoError(t, err)
	_, err = c.StartBackup(bkCtx(t), e.opts("tls"))
	require.Error(t, err)
	var mismatch *auth.FingerprintMismatchError
	assert.True(t, errors.As(err, &mismatch) || errors.As(err, new(*tls.CertificateVerificationError)), "%v", err)
	_, err = c.StartReader(bkCtx(t), pbs.ReaderOptions{Datastore: e.srv.Datastore, Snapshot: datastore.Snapshot{
		Group: datastore.Group{Type: datastore.TypeHost, ID: "x"}, Time: e.clock}})
	assert.Error(t, err)
}

// Refused upgrades are *Error values with the server's status, message and
// the upgrade path: a missing namespace is 404, bad credentials 401.
func TestBackupUpgradeRefusals(t *testing.T) {
	e := newBkEnv(t)
	ns, err := datastore.ParseNamespace("nowhere")
	require.NoError(t, err)
	o := e.opts("ns")
	o.Namespace = ns
	_, err = e.c.StartBackup(bkCtx(t), o)
	var perr *pbs.Error
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, 404, perr.Status)
	assert.Equal(t, "/backup", perr.Path)
	assert.ErrorIs(t, err, pbs.ErrNotFound)

	bad, err := auth.NewToken(e.srv.AdminToken.ID, auth.NewSecret("00000000-0000-0000-0000-000000000000"))
	require.NoError(t, err)
	c, err := pbs.NewClient(e.srv.URL, pbs.WithCredentials(bad), pbs.WithFingerprint(e.srv.Fingerprint))
	require.NoError(t, err)
	_, err = c.StartBackup(bkCtx(t), e.opts("auth"))
	assert.ErrorIs(t, err, pbs.ErrUnauthorized)
	assert.NotContains(t, err.Error(), e.srv.AdminToken.Secret.Reveal())

	// One writer per group at a time: a second session of the group is
	// refused while the first runs.
	first := e.start("busy")
	_, err = e.c.StartBackup(bkCtx(t), e.opts("busy"))
	require.Error(t, err)
	assert.ErrorAs(t, err, &perr)
	require.NoError(t, first.Abort())
}

// Namespaces go into the upgrade as ns; the snapshot lands there.
func TestBackupIntoNamespace(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	st := e.store()
	ns, err := st.CreateNamespace(datastore.Namespace{}, "prod")
	require.NoError(t, err)
	o := e.opts("nsbackup")
	o.Namespace = ns
	s, err := e.c.StartBackup(ctx, o)
	require.NoError(t, err)
	assert.Equal(t, ns, s.Namespace())
	_, err = s.UploadBlob(ctx, "a.conf", []byte("a"))
	require.NoError(t, err)
	res, err := s.Finish(ctx)
	require.NoError(t, err)
	assert.Equal(t, ns, res.Namespace)
	e.settle()
	items, err := st.ListSnapshots(ctx, ns, datastore.TypeHost, "nsbackup")
	require.NoError(t, err)
	assert.Len(t, items, 1)

	r, err := e.c.StartReader(ctx, pbs.ReaderOptions{Datastore: e.srv.Datastore, Namespace: ns, Snapshot: res.Snapshot})
	require.NoError(t, err)
	defer r.Close()
	got, err := r.DownloadBlob(context.Background(), "a.conf")
	require.NoError(t, err)
	assert.Equal(t, []byte("a"), got)
}

// Who may write and read (pbs-protocol.md 3.1 steps 2 and 8, 4.1): a
// Datastore.Backup token writes into groups it owns and reads them back;
// another token of the same user may not write into them; a caller without
// any privilege is refused, with 403 for a backup and 400 for a restore.
func TestBackupPrivilegesAndOwnership(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	user := auth.MustParseUserid("alice@pbs")
	require.NoError(t, e.c.Access.CreateUser(ctx, pbs.NewUser{ID: user}))
	token := func(name string, role string) *pbs.Client {
		id := auth.MustParseAuthid("alice@pbs!" + name)
		ct, err := e.c.Access.CreateToken(ctx, id, pbs.TokenOptions{})
		require.NoError(t, err)
		if role != "" {
			for _, who := range []auth.Authid{id, user.Authid()} {
				require.NoError(t, e.c.Access.GrantACL(ctx, pbs.ACLUpdate{Path: "/datastore/" + e.srv.Datastore, Role: role, AuthID: who}))
			}
		}
		c, err := pbs.NewClient(e.srv.URL, pbs.WithCredentials(ct.Credentials()), pbs.WithFingerprint(e.srv.Fingerprint))
		require.NoError(t, err)
		return c
	}
	owner, other, nobody := token("bk", "DatastoreBackup"), token("other", "DatastoreBackup"), token("none", "")

	s, err := owner.StartBackup(ctx, e.opts("alice"))
	require.NoError(t, err)
	_, err = s.UploadBlob(ctx, "a.conf", []byte("a"))
	require.NoError(t, err)
	res, err := s.Finish(ctx)
	require.NoError(t, err)
	e.settle()

	r, err := owner.StartReader(ctx, readerOpts(e, res.Snapshot))
	require.NoError(t, err, "the owner reads its group with Datastore.Backup alone")
	require.NoError(t, r.Close())

	var perr *pbs.Error
	_, err = other.StartBackup(ctx, e.opts("alice"))
	require.ErrorAs(t, err, &perr, "another token may not write into the group")
	_, err = other.StartReader(ctx, readerOpts(e, res.Snapshot))
	require.ErrorAs(t, err, &perr, "nor read it without Datastore.Read")

	_, err = nobody.StartBackup(ctx, e.opts("nobody"))
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, 403, perr.Status)
	_, err = nobody.StartReader(ctx, readerOpts(e, res.Snapshot))
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, 400, perr.Status, "PBS refuses a reader without privileges with 400, not 403")
	assert.Contains(t, perr.Message, "no permissions")
}
