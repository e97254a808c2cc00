package pbs_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

func TestDatastoreListAndUsage(t *testing.T) {
	e := newDSEnv(t, pbstest.WithDatastore("store2"))

	list, err := e.c.Datastore.List(dsCtx(t))
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, pbs.DatastoreInfo{Store: "store1"}, list[0])
	assert.Equal(t, "store2", list[1].Store)

	usage, err := e.c.Datastore.Usage(dsCtx(t))
	require.NoError(t, err)
	require.Len(t, usage, 2)
	assert.Equal(t, "store1", usage[0].Store)
	assert.True(t, usage[0].HasUsage)
	assert.NotZero(t, usage[0].Total)
	assert.LessOrEqual(t, usage[0].Used, usage[0].Total)
	require.NotNil(t, usage[0].GCStatus, "PBS always reports a (possibly empty) GC status")
	assert.Nil(t, usage[0].History, "the mock keeps no usage history")
	assert.True(t, usage[0].EstimatedFullDate.IsZero())
}

func TestDatastoreStatus(t *testing.T) {
	e := newDSEnv(t)
	e.backup(t, "", "host/web01/2026-01-01T10:00:00Z", "root@pam", "payload one")
	e.backup(t, "", "host/web01/2026-01-02T10:00:00Z", "root@pam", "payload two")
	e.createNS(t, "dev")
	e.backup(t, "dev", "vm/100/2026-01-01T10:00:00Z", "root@pam", "a vm image")

	st, err := e.c.Datastore.Status(dsCtx(t), e.store, false)
	require.NoError(t, err)
	assert.NotZero(t, st.Total)
	assert.Nil(t, st.Counts, "counts only with verbose")
	assert.Nil(t, st.GCStatus)

	st, err = e.c.Datastore.Status(dsCtx(t), e.store, true)
	require.NoError(t, err)
	require.NotNil(t, st.Counts)
	assert.Equal(t, &datastore.TypeCounts{Groups: 1, Snapshots: 2}, st.Counts.Host)
	assert.Equal(t, &datastore.TypeCounts{Groups: 1, Snapshots: 1}, st.Counts.VM, "counts cover every namespace")
	assert.Nil(t, st.Counts.CT)
	assert.NotNil(t, st.GCStatus)

	_, err = e.c.Datastore.Status(dsCtx(t), "nostore", false)
	require.Error(t, err)
	perr := apiError(t, err)
	assert.Equal(t, "no such datastore 'nostore'", perr.Message)
}

func TestNamespaces(t *testing.T) {
	e := newDSEnv(t)
	c := e.c.Datastore

	got, err := c.CreateNamespace(dsCtx(t), e.store, datastore.Namespace{}, "prod")
	require.NoError(t, err)
	assert.Equal(t, "prod", got.String())
	got, err = c.CreateNamespace(dsCtx(t), e.store, dsNS(t, "prod"), "web")
	require.NoError(t, err)
	assert.Equal(t, "prod/web", got.String())
	_, err = c.CreateNamespace(dsCtx(t), e.store, datastore.Namespace{}, "dev")
	require.NoError(t, err)
	_, err = c.CreateNamespace(dsCtx(t), e.store, dsNS(t, "prod"), "web")
	require.NoError(t, err, "creating an existing namespace succeeds, as on PBS")

	list, err := c.ListNamespaces(dsCtx(t), e.store, datastore.Namespace{}, -1)
	require.NoError(t, err)
	var names []string
	for _, it := range list {
		names = append(names, it.NS.String())
	}
	assert.Equal(t, []string{"", "dev", "prod", "prod/web"}, names, "the anchor comes first")

	list, err = c.ListNamespaces(dsCtx(t), e.store, dsNS(t, "prod"), 0)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "prod", list[0].NS.String())

	_, err = c.CreateNamespace(dsCtx(t), e.store, dsNS(t, "missing"), "x")
	assert.ErrorIs(t, err, pbs.ErrNotFound)
	_, err = c.CreateNamespace(dsCtx(t), e.store, datastore.Namespace{}, "bad name")
	assert.ErrorIs(t, err, pbs.ErrBadRequest)

	// A namespace holding a group goes only with delete-groups.
	e.backup(t, "prod/web", "host/a/2026-01-01T00:00:00Z", "root@pam", "data")
	err = c.DeleteNamespace(dsCtx(t), e.store, dsNS(t, "prod"), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "only partially deleted due to existing groups")
	require.NoError(t, c.DeleteNamespace(dsCtx(t), e.store, dsNS(t, "prod"), true))
	assert.False(t, e.st.NamespaceExists(dsNS(t, "prod")))

	err = c.DeleteNamespace(dsCtx(t), e.store, datastore.Namespace{}, false)
	perr := apiError(t, err)
	assert.Equal(t, "Cannot create/delete root namespace!", perr.Message)
}

func TestGroupsAndSnapshots(t *testing.T) {
	e := newDSEnv(t)
	c := e.c.Datastore
	s1 := e.backup(t, "", "host/web01/2026-01-01T10:00:00Z", "root@pam", "payload one")
	s2 := e.backup(t, "", "host/web01/2026-01-02T10:00:00Z", "root@pam", "payload two!")
	s3 := e.backup(t, "", "vm/100/2026-01-03T10:00:00Z", "alice@pbs", "a vm")

	groups, err := c.ListGroups(dsCtx(t), e.store, datastore.Namespace{})
	require.NoError(t, err)
	require.Len(t, groups, 2)
	assert.Equal(t, s1.Group, groups[0].Group)
	assert.Equal(t, s2.Time, groups[0].LastBackup)
	assert.Equal(t, uint64(2), groups[0].BackupCount)
	assert.ElementsMatch(t, []string{"conf.blob", "data.didx", "index.json.blob"}, groups[0].Files)
	assert.Equal(t, auth.MustParseAuthid("root@pam"), groups[0].Owner)
	assert.Equal(t, auth.MustParseAuthid("alice@pbs"), groups[1].Owner)

	snaps, err := c.ListSnapshots(dsCtx(t), e.store, datastore.Namespace{}, pbs.SnapshotFilter{})
	require.NoError(t, err)
	require.Len(t, snaps, 3)
	first := snaps[0]
	assert.Equal(t, s1, first.Snapshot)
	assert.Equal(t, "UTC", first.Snapshot.Time.Location().String())
	assert.False(t, first.Protected)
	assert.Nil(t, first.Verification)
	require.NotNil(t, first.Size)
	require.Len(t, first.Files, 3)
	assert.Equal(t, "data.didx", first.Files[0].Filename)
	assert.Equal(t, datastore.CryptNone, first.Files[0].CryptMode)
	require.NotNil(t, first.Files[0].Size)
	assert.Equal(t, uint64(len("payload one")), *first.Files[0].Size)
	assert.Equal(t, "index.json.blob", first.Files[2].Filename)
	var sum uint64
	for _, f := range first.Files {
		sum += *f.Size
	}
	assert.Equal(t, sum, *first.Size)

	only, err := c.ListSnapshots(dsCtx(t), e.store, datastore.Namespace{}, pbs.SnapshotFilter{Type: datastore.TypeVM})
	require.NoError(t, err)
	require.Len(t, only, 1)
	assert.Equal(t, s3, only[0].Snapshot)
	only, err = c.ListSnapshots(dsCtx(t), e.store, datastore.Namespace{}, pbs.SnapshotFilter{Type: datastore.TypeHost, ID: "web01"})
	require.NoError(t, err)
	assert.Len(t, only, 2)
	none, err := c.ListSnapshots(dsCtx(t), e.store, datastore.Namespace{}, pbs.SnapshotFilter{Type: datastore.TypeCT, ID: "nope"})
	require.NoError(t, err)
	assert.Empty(t, none, "a group that does not exist lists nothing, as on PBS")

	files, err := c.SnapshotFiles(dsCtx(t), e.store, datastore.Namespace{}, s2)
	require.NoError(t, err)
	assert.Equal(t, snaps[1].Files, files)
	_, err = c.SnapshotFiles(dsCtx(t), e.store, datastore.Namespace{}, dsSnap(t, "host/web01/2027-01-01T00:00:00Z"))
	assert.ErrorIs(t, err, pbs.ErrNotFound)
}

func TestSnapshotNotesAndGroupNotes(t *testing.T) {
	e := newDSEnv(t)
	c := e.c.Datastore
	s1 := e.backup(t, "", "ct/200/2026-01-01T10:00:00Z", "root@pam", "container")
	root := datastore.Namespace{}

	notes, err := c.Notes(dsCtx(t), e.store, root, s1)
	require.NoError(t, err)
	assert.Empty(t, notes)
	require.NoError(t, c.SetNotes(dsCtx(t), e.store, root, s1, "before the upgrade\nsecond line"))
	notes, err = c.Notes(dsCtx(t), e.store, root, s1)
	require.NoError(t, err)
	assert.Equal(t, "before the upgrade\nsecond line", notes)
	m, _, err := e.st.ReadManifest(root, s1)
	require.NoError(t, err)
	assert.Equal(t, "before the upgrade\nsecond line", m.Unprotected.Notes, "notes live in the manifest")

	require.NoError(t, c.SetGroupNotes(dsCtx(t), e.store, root, s1.Group, "database servers\nmore"))
	gnotes, err := c.GroupNotes(dsCtx(t), e.store, root, s1.Group)
	require.NoError(t, err)
	assert.Equal(t, "database servers\nmore", gnotes)

	snaps, err := c.ListSnapshots(dsCtx(t), e.store, root, pbs.SnapshotFilter{})
	require.NoError(t, err)
	require.Len(t, snaps, 1)
	assert.Equal(t, "before the upgrade", snaps[0].Comment)
	groups, err := c.ListGroups(dsCtx(t), e.store, root)
	require.NoError(t, err)
	require.Len(t, groups, 1)
	assert.Equal(t, "database servers", groups[0].Comment)

	err = c.SetNotes(dsCtx(t), e.store, root, dsSnap(t, "ct/200/2030-01-01T00:00:00Z"), "x")
	assert.ErrorIs(t, err, pbs.ErrNotFound)
}

func TestProtectedSnapshotCannotBeDeleted(t *testing.T) {
	e := newDSEnv(t)
	c := e.c.Datastore
	root := datastore.Namespace{}
	s1 := e.backup(t, "", "host/db/2026-01-01T10:00:00Z", "root@pam", "one")
	e.backup(t, "", "host/db/2026-01-02T10:00:00Z", "root@pam", "two")

	p, err := c.Protected(dsCtx(t), e.store, root, s1)
	require.NoError(t, err)
	assert.False(t, p)
	require.NoError(t, c.SetProtected(dsCtx(t), e.store, root, s1, true))
	p, err = c.Protected(dsCtx(t), e.store, root, s1)
	require.NoError(t, err)
	assert.True(t, p)

	err = c.DeleteSnapshot(dsCtx(t), e.store, root, s1)
	perr := apiError(t, err)
	assert.Equal(t, 400, perr.Status)
	assert.Equal(t, "cannot remove protected snapshot", perr.Message)

	err = c.DeleteGroup(dsCtx(t), e.store, root, s1.Group)
	perr = apiError(t, err)
	assert.Equal(t, "group only partially deleted due to protected snapshots", perr.Message)
	snaps, err := c.ListSnapshots(dsCtx(t), e.store, root, pbs.SnapshotFilter{})
	require.NoError(t, err)
	require.Len(t, snaps, 1, "the unprotected snapshot went, the protected one stayed")
	assert.Equal(t, s1, snaps[0].Snapshot)
	assert.True(t, snaps[0].Protected)

	require.NoError(t, c.SetProtected(dsCtx(t), e.store, root, s1, false))
	require.NoError(t, c.DeleteSnapshot(dsCtx(t), e.store, root, s1))
	snaps, err = c.ListSnapshots(dsCtx(t), e.store, root, pbs.SnapshotFilter{})
	require.NoError(t, err)
	assert.Empty(t, snaps)

	err = c.SetProtected(dsCtx(t), e.store, root, s1, true)
	assert.ErrorIs(t, err, pbs.ErrNotFound)
	err = c.DeleteSnapshot(dsCtx(t), e.store, root, s1)
	assert.ErrorIs(t, err, pbs.ErrNotFound)
}

func TestDeleteGroup(t *testing.T) {
	e := newDSEnv(t)
	c := e.c.Datastore
	root := datastore.Namespace{}
	s := e.backup(t, "", "host/old/2026-01-01T10:00:00Z", "root@pam", "old data")
	require.NoError(t, c.DeleteGroup(dsCtx(t), e.store, root, s.Group))
	groups, err := c.ListGroups(dsCtx(t), e.store, root)
	require.NoError(t, err)
	assert.Empty(t, groups)
	err = c.DeleteGroup(dsCtx(t), e.store, root, s.Group)
	assert.ErrorIs(t, err, pbs.ErrNotFound)

	err = c.DeleteGroup(dsCtx(t), e.store, root, datastore.Group{Type: "nope", ID: "x"})
	assert.ErrorIs(t, err, datastore.ErrBadName, "a bad group is refused before anything is sent")
}

func TestChangeOwner(t *testing.T) {
	e := newDSEnv(t)
	c := e.c.Datastore
	root := datastore.Namespace{}
	s := e.backup(t, "", "host/moved/2026-01-01T10:00:00Z", "root@pam", "x")
	_, alice := e.newToken(t, "alice@pbs", "backup")

	require.NoError(t, c.ChangeOwner(dsCtx(t), e.store, root, s.Group, alice))
	owner, err := e.st.GroupOwner(root, s.Group)
	require.NoError(t, err)
	assert.Equal(t, "alice@pbs!backup", owner)

	err = c.ChangeOwner(dsCtx(t), e.store, root, s.Group, auth.MustParseAuthid("nobody@pbs"))
	perr := apiError(t, err)
	assert.Equal(t, "user 'nobody@pbs' is inactive or non-existent", perr.Message)
}

func TestChangeOwnerWithinOwnTokens(t *testing.T) {
	e := newDSEnv(t)
	root := datastore.Namespace{}
	g := []dsGrant{{"/datastore/store1", "DatastoreBackup"}}
	bob1, bob1ID := e.newToken(t, "bob@pbs", "one", g...)
	_, bob2ID := e.newToken(t, "bob@pbs", "two", g...)
	_, carolID := e.newToken(t, "carol@pbs", "tok", g...)
	s := e.backup(t, "", "host/bob/2026-01-01T10:00:00Z", bob1ID.String(), "x")

	// A token with Datastore.Backup is not the user: it may not move even
	// its own group to a sibling token (only the user may).
	err := bob1.Datastore.ChangeOwner(dsCtx(t), e.store, root, s.Group, bob2ID)
	perr := apiError(t, err)
	assert.Equal(t, 401, perr.Status)
	assert.Equal(t, "bob@pbs!one does not have permission to change owner of backup group 'host/bob' to bob@pbs!two", perr.Message)
	err = bob1.Datastore.ChangeOwner(dsCtx(t), e.store, root, s.Group, carolID)
	perr = apiError(t, err)
	assert.Equal(t, 401, perr.Status)
}

func TestDatastoreCallsRefuseBadInput(t *testing.T) {
	e := newDSEnv(t)
	c := e.c.Datastore
	root := datastore.Namespace{}
	_, err := c.Protected(dsCtx(t), e.store, root, datastore.Snapshot{Group: datastore.Group{Type: datastore.TypeHost, ID: "x"}})
	assert.ErrorIs(t, err, datastore.ErrBadName, "a snapshot needs its time")
	err = c.ChangeOwner(dsCtx(t), e.store, root, datastore.Group{Type: datastore.TypeHost, ID: "x"}, auth.Authid{})
	assert.Error(t, err)
	_, err = c.Prune(dsCtx(t), e.store, root, datastore.Group{Type: datastore.TypeHost, ID: "x"}, pbs.PruneOptions{KeepLast: -1})
	assert.Error(t, err)
	_, err = c.StartVerify(dsCtx(t), e.store, pbs.VerifyOptions{Time: dsSnap(t, "host/x/2026-01-01T00:00:00Z").Time})
	assert.Error(t, err)
	_, err = c.ListGroups(dsCtx(t), "", root)
	assert.Error(t, err, "an empty datastore name is refused before anything is sent")
}
