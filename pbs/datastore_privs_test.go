package pbs_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
)

// privEnv is a datastore with groups of three owners and clients of
// differently privileged tokens.
type privEnv struct {
	*dsEnv
	backup, audit, none, power *pbs.Client
	own, others, powerOwn      datastore.Snapshot
}

func newPrivEnv(t *testing.T) *privEnv {
	e := &privEnv{dsEnv: newDSEnv(t)}
	store := dsGrant{"/datastore/store1", ""}
	role := func(r string) dsGrant { g := store; g.role = r; return g }
	var backupID, powerID = "alice@pbs!backup", "alice@pbs!power"
	e.backup, _ = e.newToken(t, "alice@pbs", "backup", role("DatastoreBackup"))
	e.power, _ = e.newToken(t, "alice@pbs", "power", role("DatastorePowerUser"))
	e.audit, _ = e.newToken(t, "auditor@pbs", "t", role("DatastoreAudit"))
	e.none, _ = e.newToken(t, "nobody@pbs", "t")
	e.own = e.dsEnv.backup(t, "", "host/alice/2026-01-01T10:00:00Z", backupID, "alice's data")
	e.others = e.dsEnv.backup(t, "", "host/root/2026-01-01T10:00:00Z", "root@pam", "root's data")
	e.powerOwn = e.dsEnv.backup(t, "", "host/power/2026-01-01T10:00:00Z", powerID, "power user's data")
	return e
}

// assertPBSError checks status and message of a failed call.
func assertPBSError(t *testing.T, err error, status int, msg string) {
	t.Helper()
	perr := apiError(t, err)
	assert.Equal(t, status, perr.Status)
	assert.Equal(t, msg, perr.Message)
}

func TestBackupPrivilegeSeesOnlyOwnGroups(t *testing.T) {
	e := newPrivEnv(t)
	root := datastore.Namespace{}

	groups, err := e.backup.Datastore.ListGroups(dsCtx(t), e.store, root)
	require.NoError(t, err)
	require.Len(t, groups, 1)
	assert.Equal(t, e.own.Group, groups[0].Group)
	snaps, err := e.backup.Datastore.ListSnapshots(dsCtx(t), e.store, root, pbs.SnapshotFilter{})
	require.NoError(t, err)
	require.Len(t, snaps, 1)
	assert.Equal(t, e.own, snaps[0].Snapshot)

	groups, err = e.audit.Datastore.ListGroups(dsCtx(t), e.store, root)
	require.NoError(t, err)
	assert.Len(t, groups, 3, "Datastore.Audit sees every group")
	snaps, err = e.audit.Datastore.ListSnapshots(dsCtx(t), e.store, root, pbs.SnapshotFilter{})
	require.NoError(t, err)
	assert.Len(t, snaps, 3)

	_, err = e.none.Datastore.ListGroups(dsCtx(t), e.store, root)
	assert.ErrorIs(t, err, pbs.ErrForbidden)
	assertPBSError(t, err, 403, "permission check failed - missing Datastore.Audit|Datastore.Backup on /datastore/store1")
	_, err = e.none.Datastore.ListSnapshots(dsCtx(t), e.store, root, pbs.SnapshotFilter{})
	assertPBSError(t, err, 403, "permission check failed - missing Datastore.Audit|Datastore.Backup on /datastore/store1")
}

func TestOwnerRulesOnSnapshots(t *testing.T) {
	e := newPrivEnv(t)
	root := datastore.Namespace{}
	c := e.backup.Datastore

	files, err := c.SnapshotFiles(dsCtx(t), e.store, root, e.own)
	require.NoError(t, err)
	assert.NotEmpty(t, files)
	_, err = c.SnapshotFiles(dsCtx(t), e.store, root, e.others)
	assertPBSError(t, err, 400, "backup owner check failed (alice@pbs!backup != root@pam)")
	_, err = e.none.Datastore.SnapshotFiles(dsCtx(t), e.store, root, e.own)
	assertPBSError(t, err, 403, "permission check failed - missing Datastore.Audit|Datastore.Read|Datastore.Backup on /datastore/store1")

	// Notes and protection: Datastore.Backup suffices for owned groups.
	require.NoError(t, c.SetNotes(dsCtx(t), e.store, root, e.own, "mine"))
	notes, err := c.Notes(dsCtx(t), e.store, root, e.own)
	require.NoError(t, err)
	assert.Equal(t, "mine", notes)
	require.NoError(t, c.SetProtected(dsCtx(t), e.store, root, e.own, true))
	p, err := c.Protected(dsCtx(t), e.store, root, e.own)
	require.NoError(t, err)
	assert.True(t, p)
	err = c.SetNotes(dsCtx(t), e.store, root, e.others, "not mine")
	assertPBSError(t, err, 400, "backup owner check failed (alice@pbs!backup != root@pam)")
	require.NoError(t, c.SetGroupNotes(dsCtx(t), e.store, root, e.own.Group, "group notes"))
	_, err = c.GroupNotes(dsCtx(t), e.store, root, e.others.Group)
	assertPBSError(t, err, 400, "backup owner check failed (alice@pbs!backup != root@pam)")

	// Datastore.Audit reads everything but changes nothing.
	notes, err = e.audit.Datastore.Notes(dsCtx(t), e.store, root, e.own)
	require.NoError(t, err)
	assert.Equal(t, "mine", notes)
	err = e.audit.Datastore.SetNotes(dsCtx(t), e.store, root, e.own, "x")
	assertPBSError(t, err, 403, "permission check failed - missing Datastore.Modify|Datastore.Backup on /datastore/store1")
	err = e.audit.Datastore.SetProtected(dsCtx(t), e.store, root, e.own, false)
	assertPBSError(t, err, 403, "permission check failed - missing Datastore.Modify|Datastore.Backup on /datastore/store1")
}

func TestDeletingAndPruningNeedPrune(t *testing.T) {
	e := newPrivEnv(t)
	root := datastore.Namespace{}

	err := e.backup.Datastore.DeleteSnapshot(dsCtx(t), e.store, root, e.own)
	assertPBSError(t, err, 403, "permission check failed - missing Datastore.Modify|Datastore.Prune on /datastore/store1")
	err = e.backup.Datastore.DeleteGroup(dsCtx(t), e.store, root, e.own.Group)
	assertPBSError(t, err, 403, "permission check failed - missing Datastore.Modify|Datastore.Prune on /datastore/store1")
	_, err = e.backup.Datastore.Prune(dsCtx(t), e.store, root, e.own.Group, pbs.PruneOptions{KeepLast: 1})
	assertPBSError(t, err, 403, "permission check failed - missing Datastore.Modify|Datastore.Prune on /datastore/store1")

	// Datastore.Prune works on owned groups only; a sibling token of the
	// same user is not the owner.
	err = e.power.Datastore.DeleteSnapshot(dsCtx(t), e.store, root, e.own)
	assertPBSError(t, err, 400, "backup owner check failed (alice@pbs!power != alice@pbs!backup)")
	plan, err := e.power.Datastore.Prune(dsCtx(t), e.store, root, e.powerOwn.Group, pbs.PruneOptions{KeepLast: 1, DryRun: true})
	require.NoError(t, err)
	require.Len(t, plan, 1)
	require.NoError(t, e.power.Datastore.DeleteSnapshot(dsCtx(t), e.store, root, e.powerOwn))

	// A protected snapshot cannot be pruned away.
	prot := e.dsEnv.backup(t, "", "host/power/2026-01-15T10:00:00Z", "alice@pbs!power", "older, protected")
	e.dsEnv.backup(t, "", "host/power/2026-02-01T10:00:00Z", "alice@pbs!power", "newer")
	require.NoError(t, e.c.Datastore.SetProtected(dsCtx(t), e.store, root, prot, true))
	res, err := e.power.Datastore.Prune(dsCtx(t), e.store, root, prot.Group, pbs.PruneOptions{KeepLast: 1})
	require.NoError(t, err)
	require.Len(t, res, 2)
	assert.Equal(t, pbs.PruneItem{Snapshot: prot, Keep: true, Protected: true}, res[0])
	snaps, err := e.power.Datastore.ListSnapshots(dsCtx(t), e.store, root, pbs.SnapshotFilter{ID: "power"})
	require.NoError(t, err)
	assert.Len(t, snaps, 2)
}

func TestVerifyAndGCPrivileges(t *testing.T) {
	e := newPrivEnv(t)

	upid, err := e.backup.Datastore.StartVerify(dsCtx(t), e.store, pbs.VerifyOptions{Group: e.own.Group, Time: e.own.Time})
	require.NoError(t, err, "Datastore.Backup verifies owned snapshots")
	st, err, _ := waitLog(t, e.backup, upid)
	require.NoError(t, err)
	assert.Equal(t, "OK", st.ExitStatus)
	_, err = e.backup.Datastore.StartVerify(dsCtx(t), e.store, pbs.VerifyOptions{Group: e.others.Group})
	assertPBSError(t, err, 400, "backup owner check failed (alice@pbs!backup != root@pam)")
	_, err = e.audit.Datastore.StartVerify(dsCtx(t), e.store, pbs.VerifyOptions{})
	assertPBSError(t, err, 403, "permission check failed - missing Datastore.Verify|Datastore.Backup on /datastore/store1")

	upid, err = e.backup.Datastore.StartVerify(dsCtx(t), e.store, pbs.VerifyOptions{})
	require.NoError(t, err)
	_, err, lines := waitLog(t, e.backup, upid)
	require.NoError(t, err)
	joined := strings.Join(lines, "\n")
	assert.Contains(t, joined, "limiting to backups owned by alice@pbs!backup")
	assert.Contains(t, joined, "found 1 groups")

	_, err = e.backup.Datastore.StartGC(dsCtx(t), e.store)
	assertPBSError(t, err, 403, "permission check failed")
	_, err = e.backup.Datastore.GCStatus(dsCtx(t), e.store)
	assertPBSError(t, err, 403, "permission check failed")
	_, err = e.audit.Datastore.GCStatus(dsCtx(t), e.store)
	require.NoError(t, err, "Datastore.Audit reads the GC status")
}

func TestStatusAndListByPrivilege(t *testing.T) {
	e := newPrivEnv(t)
	dev := e.createNS(t, "dev")
	e.dsEnv.backup(t, "dev", "vm/1/2026-01-01T10:00:00Z", "root@pam", "dev vm")
	nsOnly, _ := e.newToken(t, "dev@pbs", "t", dsGrant{"/datastore/store1/dev", "DatastoreBackup"})

	st, err := e.backup.Datastore.Status(dsCtx(t), e.store, true)
	require.NoError(t, err)
	assert.NotZero(t, st.Total, "Datastore.Backup sees the sizes")
	require.NotNil(t, st.Counts)
	assert.Equal(t, &datastore.TypeCounts{Groups: 1, Snapshots: 1}, st.Counts.Host, "only the caller's own groups count")
	assert.Nil(t, st.Counts.VM)

	st, err = e.audit.Datastore.Status(dsCtx(t), e.store, true)
	require.NoError(t, err)
	assert.Equal(t, &datastore.TypeCounts{Groups: 3, Snapshots: 3}, st.Counts.Host)
	assert.Equal(t, &datastore.TypeCounts{Groups: 1, Snapshots: 1}, st.Counts.VM)

	st, err = nsOnly.Datastore.Status(dsCtx(t), e.store, true)
	require.NoError(t, err, "a privilege on a namespace below gives counts")
	assert.Zero(t, st.Total)
	assert.Nil(t, st.GCStatus)
	require.NotNil(t, st.Counts)
	assert.Nil(t, st.Counts.VM, "the dev VM belongs to root@pam")

	_, err = e.none.Datastore.Status(dsCtx(t), e.store, false)
	assertPBSError(t, err, 403, "permission check failed")

	list, err := nsOnly.Datastore.List(dsCtx(t))
	require.NoError(t, err)
	assert.Equal(t, []pbs.DatastoreInfo{{Store: "store1"}}, list)
	list, err = e.none.Datastore.List(dsCtx(t))
	require.NoError(t, err)
	assert.Empty(t, list)
	usage, err := nsOnly.Datastore.Usage(dsCtx(t))
	require.NoError(t, err)
	require.Len(t, usage, 1)
	assert.Equal(t, pbs.DatastoreUsage{Store: "store1"}, usage[0], "name only below the datastore")
	usage, err = e.none.Datastore.Usage(dsCtx(t))
	require.NoError(t, err)
	assert.Empty(t, usage)

	spaces, err := nsOnly.Datastore.ListNamespaces(dsCtx(t), e.store, datastore.Namespace{}, -1)
	require.NoError(t, err)
	require.Len(t, spaces, 1)
	assert.Equal(t, dev, spaces[0].NS, "only namespaces with a privilege are listed")
	_, err = e.none.Datastore.ListNamespaces(dsCtx(t), e.store, datastore.Namespace{}, -1)
	assertPBSError(t, err, 403, "permission check failed")
	_, err = e.backup.Datastore.CreateNamespace(dsCtx(t), e.store, datastore.Namespace{}, "new")
	assertPBSError(t, err, 403, "permission check failed - missing Datastore.Modify on /datastore/store1")
	err = nsOnly.Datastore.DeleteNamespace(dsCtx(t), e.store, dev, true)
	assertPBSError(t, err, 403, "permission check failed - missing Datastore.Modify on /datastore/store1")

	groups, err := nsOnly.Datastore.ListGroups(dsCtx(t), e.store, dev)
	require.NoError(t, err)
	assert.Empty(t, groups, "Datastore.Backup on the namespace, but the group is root's")
}
