package acl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

// Assertions of proxmox-backup 3.2.4's pbs-config/src/acl.rs tests, in the
// acl.cfg syntax they use. Paths like /storage are not valid PBS objects
// (ValidatePath refuses them) but the configuration parser and the
// evaluator accept any syntactically valid path.

func TestUpstreamPBSRoles1(t *testing.T) {
	p := policyFromConfig(t, auth.PBS, `
acl:1:/storage:user1@pbs:Admin
acl:1:/storage/store1:user1@pbs:DatastoreBackup
acl:1:/storage/store2:user2@pbs:DatastoreBackup
`)
	runUpstream(t, p, []upstreamCheck{
		{"roles", "user1@pbs", "/", ""},
		{"roles", "user1@pbs", "/storage", "Admin"},
		{"roles", "user1@pbs", "/storage/store1", "DatastoreBackup"},
		{"roles", "user1@pbs", "/storage/store2", "Admin"},
		{"roles", "user2@pbs", "/", ""},
		{"roles", "user2@pbs", "/storage", ""},
		{"roles", "user2@pbs", "/storage/store1", ""},
		{"roles", "user2@pbs", "/storage/store2", "DatastoreBackup"},
	})
}

func TestUpstreamPBSRoleNoAccess(t *testing.T) {
	propagating := policyFromConfig(t, auth.PBS, `
acl:1:/:user1@pbs:Admin
acl:1:/storage:user1@pbs:NoAccess
acl:1:/storage/store1:user1@pbs:DatastoreBackup
`)
	runUpstream(t, propagating, []upstreamCheck{
		{"roles", "user1@pbs", "/", "Admin"},
		{"roles", "user1@pbs", "/storage", "NoAccess"},
		{"roles", "user1@pbs", "/storage/store1", "DatastoreBackup"},
		{"roles", "user1@pbs", "/storage/store2", "NoAccess"},
		{"roles", "user1@pbs", "/system", "Admin"},
		{"perm", "user1@pbs", "/storage/store2", ""},
	})
	final := policyFromConfig(t, auth.PBS, `
acl:1:/:user1@pbs:Admin
acl:0:/storage:user1@pbs:NoAccess
acl:1:/storage/store1:user1@pbs:DatastoreBackup
`)
	runUpstream(t, final, []upstreamCheck{
		{"roles", "user1@pbs", "/", "Admin"},
		{"roles", "user1@pbs", "/storage", "NoAccess"},
		{"roles", "user1@pbs", "/storage/store1", "DatastoreBackup"},
		{"roles", "user1@pbs", "/storage/store2", "Admin"},
		{"roles", "user1@pbs", "/system", "Admin"},
	})
	// PBS reports a NoAccess candidate with its flag cleared.
	assert.Equal(t, map[string]bool{"NoAccess": false}, propagating.EffectiveRoles(id("user1@pbs"), "/storage"))
}

func TestUpstreamPBSRoleAddDelete(t *testing.T) {
	p := NewPolicy(auth.PBS)
	u := id("user1@pbs")
	require.NoError(t, p.Grant(EntryFor("/", u, "Admin", true)))
	require.NoError(t, p.Grant(EntryFor("/", u, "Audit", true)))
	assert.Equal(t, "Admin,Audit", joinedRoles(p.EffectiveRoles(u, "/")))
	require.NoError(t, p.Grant(EntryFor("/", u, "NoAccess", true)))
	assert.Equal(t, "NoAccess", joinedRoles(p.EffectiveRoles(u, "/")))
	assert.Equal(t, []Entry{{Path: "/", Type: User, Subject: "user1@pbs", Role: "NoAccess", Propagate: true}}, p.Entries())
}

func TestUpstreamPBSNoAccessOverwrite(t *testing.T) {
	p := NewPolicy(auth.PBS)
	u := id("user1@pbs")
	require.NoError(t, p.Grant(EntryFor("/storage", u, "NoAccess", true)))
	assert.Equal(t, "NoAccess", joinedRoles(p.EffectiveRoles(u, "/storage")))
	require.NoError(t, p.Grant(EntryFor("/storage", u, "Admin", true)))
	require.NoError(t, p.Grant(EntryFor("/storage", u, "Audit", true)))
	assert.Equal(t, "Admin,Audit", joinedRoles(p.EffectiveRoles(u, "/storage")))
	require.NoError(t, p.Grant(EntryFor("/storage", u, "NoAccess", true)))
	assert.Equal(t, "NoAccess", joinedRoles(p.EffectiveRoles(u, "/storage")))
}

// test_get_child_paths feeds any_privs_below; AnyPrivsBelow first looks
// at propagated privileges on the anchor itself, then at child nodes where
// the subject has entries.
func TestUpstreamPBSChildPaths(t *testing.T) {
	p := policyFromConfig(t, auth.PBS, `
acl:0:/store/store2:user1@pbs:Admin
acl:1:/store/store2/store31/store4/store6:user2@pbs:DatastoreReader
acl:0:/store/store2/store3:user1@pbs:Admin
`)
	u1, u2 := id("user1@pbs"), id("user2@pbs")
	assert.True(t, p.AnyPrivsBelow(u1, "/store", "Datastore.Audit"))
	assert.False(t, p.AnyPrivsBelow(u2, "/store/store2/store3", "Datastore.Read", "Datastore.Audit"))
	assert.True(t, p.AnyPrivsBelow(u2, "/store/store2/store31", "Datastore.Read"))
	assert.False(t, p.AnyPrivsBelow(u2, "/store/store2/foo/bar/baz", "Datastore.Read"))
	assert.True(t, p.AnyPrivsBelow(u2, "/store/store2/store31/store4/store6", "Datastore.Read"))
	assert.False(t, p.AnyPrivsBelow(u2, "/store", "Datastore.Modify"), "holds only reader privileges below")
	assert.True(t, p.AnyPrivsBelow(u1, "/", "Datastore.Audit"), "Admin on a node below the root")
	assert.False(t, p.AnyPrivsBelow(u1, "/store/store2/store3/x", "Datastore.Audit"), "non-propagating entries end at their node")
}

func TestUpstreamPBSDeleteNode(t *testing.T) {
	p := NewPolicy(auth.PBS)
	u := id("user1@pbs")
	for _, path := range []string{"/storage", "/storage/a", "/storage/b", "/storage/b/a", "/storage/b/b", "/datastore/c", "/datastore/d"} {
		require.NoError(t, p.Grant(EntryFor(path, u, "NoAccess", true)))
	}
	paths := func() []string {
		var out []string
		for _, e := range p.Entries() {
			out = append(out, e.Path)
		}
		return out
	}
	p.RemovePath("/storage/b/a")
	assert.Equal(t, []string{"/datastore/c", "/datastore/d", "/storage", "/storage/a", "/storage/b", "/storage/b/b"}, paths())
	p.RemovePath("/storage/b")
	assert.Equal(t, []string{"/datastore/c", "/datastore/d", "/storage", "/storage/a"}, paths())
	p.RemovePath("/storage")
	assert.Equal(t, []string{"/datastore/c", "/datastore/d"}, paths())
	p.RemovePath("/datastore/c")
	p.RemovePath("/")
	assert.Equal(t, []string{"/datastore/d"}, paths())
}

func TestUpstreamPBSDeleteAuthid(t *testing.T) {
	p := NewPolicy(auth.PBS)
	u1, u2 := id("user1@pbs"), id("user2@pbs")
	for _, path := range []string{"/", "/storage", "/storage/a", "/storage/a/b", "/storage/b", "/storage/b/a", "/storage/b/b", "/storage/a/a"} {
		require.NoError(t, p.Grant(EntryFor(path, u1, "NoAccess", true)))
	}
	for _, path := range []string{"/", "/storage", "/storage/a/b", "/storage/a/a"} {
		require.NoError(t, p.Grant(EntryFor(path, u2, "NoAccess", true)))
	}
	p.RemoveUser(u1.User())
	for _, e := range p.Entries() {
		assert.Equal(t, "user2@pbs", e.Subject)
	}
	assert.Len(t, p.Entries(), 4)
	p.RemoveUser(u2.User())
	assert.Empty(t, p.Entries())
}
