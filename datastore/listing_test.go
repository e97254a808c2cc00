package datastore

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNamespaces(t *testing.T) {
	ctx := context.Background()
	s := storeNewTest(t)
	a, err := s.CreateNamespace(Namespace{}, "a")
	require.NoError(t, err)
	assert.Equal(t, "a", a.String())
	assert.DirExists(t, filepath.Join(s.Path(), "ns", "a"))
	ab, err := s.CreateNamespace(a, "b")
	require.NoError(t, err)
	assert.DirExists(t, filepath.Join(s.Path(), "ns", "a", "ns", "b"))
	_, err = s.CreateNamespace(a, "b")
	require.NoError(t, err, "creating an existing namespace succeeds, as in PBS")
	_, err = s.CreateNamespace(Namespace{}, "c")
	require.NoError(t, err)
	_, err = s.CreateNamespace(storeNS(t, "x"), "y")
	assert.ErrorIs(t, err, ErrNamespaceNotFound)
	_, err = s.CreateNamespace(Namespace{}, "bad/name")
	assert.ErrorIs(t, err, ErrBadName)
	// Junk in ns/ is ignored by listings.
	require.NoError(t, os.WriteFile(filepath.Join(s.Path(), "ns", "file"), nil, 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(s.Path(), "ns", ".hidden"), 0o755))

	names := func(items []NamespaceListItem) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.NS.String())
		}
		return out
	}
	all, err := s.ListNamespaces(ctx, Namespace{}, MaxNamespaceDepth)
	require.NoError(t, err)
	assert.Equal(t, []string{"", "a", "a/b", "c"}, names(all), "anchor first, then depth first")
	top, err := s.ListNamespaces(ctx, Namespace{}, 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"", "a", "c"}, names(top))
	only, err := s.ListNamespaces(ctx, a, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, names(only))
	sub, err := s.ListNamespaces(ctx, a, 7)
	require.NoError(t, err, "depth is clamped")
	assert.Equal(t, []string{"a", "a/b"}, names(sub))
	_, err = s.ListNamespaces(ctx, Namespace{}, 8)
	assert.ErrorIs(t, err, ErrBadName)
	_, err = s.ListNamespaces(ctx, storeNS(t, "nope"), 1)
	assert.ErrorIs(t, err, ErrNamespaceNotFound)
	raw, err := json.Marshal(all[:2])
	require.NoError(t, err)
	assert.JSONEq(t, `[{"ns":""},{"ns":"a"}]`, string(raw))

	// Depth limit of 7 levels.
	deep := Namespace{}
	for i := range MaxNamespaceDepth {
		deep, err = s.CreateNamespace(deep, "l"+string(rune('0'+i)))
		require.NoError(t, err)
	}
	_, err = s.CreateNamespace(deep, "l7")
	assert.ErrorIs(t, err, ErrBadName)

	// Remove: a namespace with a group needs deleteGroups.
	snap := storeSnap(t, "host/x/2024-01-01T00:00:00Z")
	storeWrite(t, s, ab, snap, "root@pam", storeTestArchive{name: "a.blob", data: []byte("a")})
	complete, err := s.RemoveNamespace(ctx, a, false)
	require.NoError(t, err)
	assert.False(t, complete)
	assert.DirExists(t, s.NamespacePath(ab))
	complete, err = s.RemoveNamespace(ctx, a, true)
	require.NoError(t, err)
	assert.True(t, complete)
	assert.False(t, s.NamespaceExists(a))
	assert.True(t, s.NamespaceExists(storeNS(t, "c")))
	complete, err = s.RemoveNamespace(ctx, storeNS(t, "c"), false)
	require.NoError(t, err)
	assert.True(t, complete)
	assert.False(t, s.NamespaceExists(storeNS(t, "c")))
}

func TestListingRules(t *testing.T) {
	ctx := context.Background()
	s := storeNewTest(t)
	first := storeSnap(t, "vm/100/2024-01-01T00:00:00Z")
	m := storeWrite(t, s, Namespace{}, first, "root@pam",
		storeTestArchive{name: "drive-scsi0.img.fidx", data: storePRNG(1, 1000)},
		storeTestArchive{name: "qemu-server.conf.blob", data: []byte("cores: 2\n")})
	// A client log uploaded later, not in the manifest.
	log, err := NewBlobEncoder().Encode(nil, []byte("log"), true)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(s.SnapshotPath(Namespace{}, first), ClientLogName), log, 0o644))
	// An unfinished snapshot, as a crashed PBS backup leaves it.
	partial := storeSnap(t, "vm/100/2024-01-02T00:00:00Z")
	pdir := s.SnapshotPath(Namespace{}, partial)
	require.NoError(t, os.MkdirAll(pdir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(pdir, "drive-scsi0.img.fidx"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(pdir, "drive-scsi0.img.tmp_fidx"), nil, 0o644))
	// Other groups, sorted numerically by id, types ct < host < vm.
	for _, name := range []string{"vm/99/2024-01-01T00:00:00Z", "vm/1000/2024-01-01T00:00:00Z", "vm/abc/2024-01-01T00:00:00Z", "ct/5/2024-01-01T00:00:00Z"} {
		storeWrite(t, s, Namespace{}, storeSnap(t, name), "root@pam", storeTestArchive{name: "a.blob", data: []byte("x")})
	}
	// A group without any snapshot, and one without owner file.
	require.NoError(t, os.MkdirAll(filepath.Join(s.Path(), "host", "empty"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(s.Path(), "host", "ownerless", "2024-01-01T00:00:00Z"), 0o755))
	// Junk that is not a group.
	require.NoError(t, os.MkdirAll(filepath.Join(s.Path(), "other", "x"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(s.Path(), "vm", ".tmp"), 0o755))

	groups, err := s.ListGroups(ctx, Namespace{})
	require.NoError(t, err)
	var ids []string
	for _, g := range groups {
		ids = append(ids, g.Group().String())
	}
	assert.Equal(t, []string{"ct/5", "vm/99", "vm/100", "vm/1000", "vm/abc"}, ids)
	g := groups[2]
	assert.Equal(t, uint64(2), g.BackupCount, "unfinished snapshots count")
	assert.Equal(t, first.Time.Unix(), g.LastBackup, "the finished snapshot is preferred")
	assert.Equal(t, []string{ClientLogName, "drive-scsi0.img.fidx", ManifestName, "qemu-server.conf.blob"}, g.Files)
	raw, err := json.Marshal(g)
	require.NoError(t, err)
	assert.JSONEq(t, `{"backup-type":"vm","backup-id":"100","last-backup":1704067200,"backup-count":2,
		"files":["client.log.blob","drive-scsi0.img.fidx","index.json.blob","qemu-server.conf.blob"],"owner":"root@pam"}`, string(raw))

	items, err := s.ListSnapshots(ctx, Namespace{}, TypeVM, "100")
	require.NoError(t, err)
	require.Len(t, items, 2)
	done, unfinished := items[0], items[1]
	manifestSize := fileSize(t, filepath.Join(s.SnapshotPath(Namespace{}, first), ManifestName))
	var want []BackupContent
	var sum uint64
	for _, f := range m.Files {
		size := f.Size
		want = append(want, BackupContent{Filename: f.Filename, CryptMode: CryptNone, Size: &size})
		sum += size
	}
	msize := uint64(manifestSize)
	want = append(want, BackupContent{Filename: ManifestName, CryptMode: CryptNone, Size: &msize}, BackupContent{Filename: ClientLogName})
	assert.Equal(t, want, done.Files)
	require.NotNil(t, done.Size)
	assert.Equal(t, sum+msize, *done.Size)
	assert.True(t, done.Finished)

	assert.False(t, unfinished.Finished)
	assert.Equal(t, []BackupContent{{Filename: "drive-scsi0.img.fidx"}}, unfinished.Files)
	assert.Nil(t, unfinished.Size)
	raw, err = json.Marshal(unfinished)
	require.NoError(t, err)
	assert.JSONEq(t, `{"backup-type":"vm","backup-id":"100","backup-time":1704153600,
		"files":[{"filename":"drive-scsi0.img.fidx"}],"owner":"root@pam","protected":false}`, string(raw))

	_, err = s.SnapshotFiles(Namespace{}, partial)
	assert.ErrorIs(t, err, ErrNotFinished, "files fails without manifest")

	// Verification and fingerprint render like PBS.
	require.NoError(t, s.UpdateManifest(ctx, Namespace{}, first, func(m *Manifest) error {
		m.Unprotected.VerifyState = &VerifyState{UPID: "UPID:pbs:1", State: VerifyStateOK}
		m.Unprotected.KeyFingerprint = "aa:bb"
		m.Unprotected.Notes = "line one\nline two"
		return nil
	}))
	item, err := s.SnapshotInfo(Namespace{}, first)
	require.NoError(t, err)
	raw, err = json.Marshal(item)
	require.NoError(t, err)
	var generic map[string]any
	require.NoError(t, json.Unmarshal(raw, &generic))
	assert.Equal(t, map[string]any{"upid": "UPID:pbs:1", "state": "ok"}, generic["verification"])
	assert.Equal(t, "aa:bb", generic["fingerprint"])
	assert.Equal(t, "line one", generic["comment"])
	assert.Equal(t, false, generic["protected"])

	all, err := s.ListSnapshots(ctx, Namespace{}, "", "")
	require.NoError(t, err)
	assert.Len(t, all, 6)
	byType, err := s.ListSnapshots(ctx, Namespace{}, TypeCT, "")
	require.NoError(t, err)
	assert.Len(t, byType, 1)
	byID, err := s.ListSnapshots(ctx, Namespace{}, "", "99")
	require.NoError(t, err)
	assert.Len(t, byID, 1)
	_, err = s.ListGroups(ctx, storeNS(t, "missing"))
	assert.ErrorIs(t, err, ErrNamespaceNotFound)
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}

func TestCompareGroups(t *testing.T) {
	g := func(s string) Group {
		out, err := ParseGroup(s)
		require.NoError(t, err)
		return out
	}
	assert.Negative(t, CompareGroups(g("ct/9"), g("host/1")))
	assert.Negative(t, CompareGroups(g("host/z"), g("vm/1")))
	assert.Negative(t, CompareGroups(g("vm/9"), g("vm/10")))
	assert.Negative(t, CompareGroups(g("vm/10"), g("vm/a")))
	assert.Positive(t, CompareGroups(g("vm/b"), g("vm/a")))
	assert.Zero(t, CompareGroups(g("vm/1"), g("vm/1")))
}

func TestStatus(t *testing.T) {
	ctx := context.Background()
	s := storeNewTest(t)
	st, err := s.Status(ctx, false)
	require.NoError(t, err)
	assert.Positive(t, st.Total)
	assert.LessOrEqual(t, st.Avail, st.Total)
	assert.LessOrEqual(t, st.Used, st.Total)
	assert.Nil(t, st.Counts)

	ns, err := s.CreateNamespace(Namespace{}, "n")
	require.NoError(t, err)
	storeWrite(t, s, Namespace{}, storeSnap(t, "vm/1/2024-01-01T00:00:00Z"), "root@pam", storeTestArchive{name: "a.blob", data: []byte("a")})
	storeWrite(t, s, Namespace{}, storeSnap(t, "vm/1/2024-01-02T00:00:00Z"), "root@pam", storeTestArchive{name: "a.blob", data: []byte("a")})
	storeWrite(t, s, ns, storeSnap(t, "ct/2/2024-01-01T00:00:00Z"), "root@pam", storeTestArchive{name: "a.blob", data: []byte("a")})
	st, err = s.Status(ctx, true)
	require.NoError(t, err)
	require.NotNil(t, st.Counts)
	assert.Equal(t, &TypeCounts{Groups: 1, Snapshots: 2}, st.Counts.VM)
	assert.Equal(t, &TypeCounts{Groups: 1, Snapshots: 1}, st.Counts.CT)
	assert.Nil(t, st.Counts.Host)
	require.NotNil(t, st.GCStatus, "an empty status before the first GC, as PBS reports")
	assert.Nil(t, st.GCStatus.UPID)

	clock := &storeFakeClock{t: time.Now()}
	s2, err := Open(s.Path(), WithClock(clock.now), WithSync(SyncNone))
	require.NoError(t, err)
	rep, err := s2.GarbageCollect(ctx, GCOptions{UPID: "UPID:test"})
	require.NoError(t, err)
	st, err = s2.Status(ctx, true)
	require.NoError(t, err)
	assert.Equal(t, rep.GCStatus, *st.GCStatus)
	raw, err := json.Marshal(st)
	require.NoError(t, err)
	var generic map[string]any
	require.NoError(t, json.Unmarshal(raw, &generic))
	for _, key := range []string{"total", "used", "avail", "gc-status", "counts"} {
		assert.Contains(t, generic, key)
	}
}
