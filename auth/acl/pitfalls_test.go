package acl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

// The mistakes people make when reasoning about Proxmox ACLs, each pinned
// for both products where it applies.

func TestPitfallDeeperLevelReplaces(t *testing.T) {
	for _, c := range []struct {
		product            auth.Product
		who, outer, deeper string
	}{
		{auth.PVE, "a@pve", "PVEVMAdmin", "PVEAuditor"},
		{auth.PBS, "a@pbs", "DatastoreAdmin", "DatastoreAudit"},
	} {
		p := NewPolicy(c.product)
		base := map[auth.Product]string{auth.PVE: "/vms", auth.PBS: "/datastore"}[c.product]
		require.NoError(t, p.Grant(EntryFor(base, id(c.who), c.outer, true)))
		require.NoError(t, p.Grant(EntryFor(base+"/x1", id(c.who), c.deeper, true)))
		assert.Equal(t, rolePrivSet(t, p, true, c.deeper), p.Privileges(id(c.who), base+"/x1"), c.product.String())
		assert.Equal(t, rolePrivSet(t, p, true, c.deeper), p.Privileges(id(c.who), base+"/x1/y"), c.product.String())
		assert.Equal(t, rolePrivSet(t, p, true, c.outer), p.Privileges(id(c.who), base+"/x2"), c.product.String())
	}
}

func TestPitfallNonPropagatingInvisibleBelow(t *testing.T) {
	for _, c := range []struct {
		product   auth.Product
		who, role string
	}{
		{auth.PVE, "a@pve", "PVEDatastoreAdmin"},
		{auth.PBS, "a@pbs", "DatastoreAdmin"},
	} {
		p := NewPolicy(c.product)
		require.NoError(t, p.Grant(EntryFor("/datastore", id(c.who), c.role, false)))
		assert.Equal(t, rolePrivSet(t, p, false, c.role), p.Privileges(id(c.who), "/datastore"))
		assert.Empty(t, p.Privileges(id(c.who), "/datastore/store1"))
		assert.Empty(t, p.Privileges(id(c.who), "/"))
	}
}

func TestPitfallPVENoPrivsepTokenIgnoresOwnRows(t *testing.T) {
	p := NewPolicy(auth.PVE)
	tok := id("ci@pve!deploy")
	require.NoError(t, p.SetToken(tok, false))
	require.NoError(t, p.Grant(EntryFor("/", tok, "Administrator", true)))
	assert.Empty(t, p.Privileges(tok, "/"), "its Administrator row counts for nothing")
	require.NoError(t, p.Grant(EntryFor("/vms", id("ci@pve"), "PVEVMUser", true)))
	assert.Equal(t, p.Privileges(id("ci@pve"), "/vms/100"), p.Privileges(tok, "/vms/100"))
	assert.Equal(t, p.Permissions(id("ci@pve")), p.Permissions(tok))

	// Switching privilege separation on makes its own rows count, capped.
	require.NoError(t, p.SetToken(tok, true))
	assert.Equal(t, rolePrivSet(t, p, true, "PVEVMUser"), p.Privileges(tok, "/vms/100"))
	assert.Empty(t, p.Privileges(tok, "/nodes"))
}

func TestPitfallPBSTokensAlwaysSeparated(t *testing.T) {
	p := NewPolicy(auth.PBS)
	owner, tok := id("alice@pbs"), id("alice@pbs!sync")
	require.NoError(t, p.Grant(EntryFor("/", owner, "Admin", true)))
	assert.Empty(t, p.Privileges(tok, "/datastore"), "no rows of its own: nothing, whatever the owner has")
	require.NoError(t, p.SetToken(tok, false)) // the flag means nothing on PBS
	assert.Empty(t, p.Privileges(tok, "/datastore"))
	require.NoError(t, p.Grant(EntryFor("/datastore", tok, "DatastoreReader", true)))
	assert.Equal(t, rolePrivSet(t, p, true, "DatastoreReader"), p.Privileges(tok, "/datastore/s1"))
}

func TestPitfallRootRowsNotStored(t *testing.T) {
	for _, product := range []auth.Product{auth.PVE, auth.PBS} {
		p := NewPolicy(product)
		require.NoError(t, p.Grant(EntryFor("/vms", id("root@pam"), RoleNoAccess, true)))
		assert.Empty(t, p.Entries(), product.String())
		assert.Len(t, p.Privileges(id("root@pam"), "/vms"), len(AllPrivileges(product)), "NoAccess cannot stop root@pam")
	}
}

func TestPitfallPBSGroupRowsGrantNothing(t *testing.T) {
	p := NewPolicy(auth.PBS)
	require.NoError(t, p.Grant(Entry{Path: "/", Type: Group, Subject: "admins", Role: "Admin", Propagate: true}))
	require.NoError(t, p.Grant(EntryFor("/datastore", id("bob@pbs"), "DatastoreAudit", true)))
	assert.Equal(t, map[string]PrivSet{"/datastore": privSet(true, "Datastore.Audit")}, p.Permissions(id("bob@pbs")))
	assert.Empty(t, p.EffectiveRoles(id("admins@pbs"), "/"))
}

func TestPitfallTokenCappedByEmptyOwner(t *testing.T) {
	for _, c := range []struct {
		product     auth.Product
		token, role string
	}{
		{auth.PVE, "eve@pve!t", "Administrator"},
		{auth.PBS, "eve@pbs!t", "Admin"},
	} {
		p := NewPolicy(c.product)
		require.NoError(t, p.SetToken(id(c.token), true))
		require.NoError(t, p.Grant(EntryFor("/", id(c.token), c.role, true)))
		assert.Empty(t, p.Permissions(id(c.token)), "the owner holds nothing, so neither does the token")
	}
}

func TestPitfallPropagateFlagIsPerPrivilege(t *testing.T) {
	// Two roles share Datastore.Audit, one propagating: the privilege is
	// propagated; the other role's own privileges keep flag 0.
	p := NewPolicy(auth.PVE)
	u := id("u@pve")
	require.NoError(t, p.Grant(EntryFor("/storage/s", u, "PVEDatastoreUser", false)))
	require.NoError(t, p.Grant(EntryFor("/storage/s", u, "PVEAuditor", true)))
	got := p.Privileges(u, "/storage/s")
	assert.True(t, got["Datastore.Audit"])
	assert.False(t, got["Datastore.AllocateSpace"])
	assert.Equal(t, rolePrivSet(t, p, true, "PVEAuditor"), p.Privileges(u, "/storage/s/x"))
}

func TestCheckSemantics(t *testing.T) {
	pve := NewPolicy(auth.PVE)
	pbs := NewPolicy(auth.PBS)
	nobody := id("n@pve")
	assert.True(t, pve.Check(nobody, "/"), "PVE: checking no privileges passes")
	assert.False(t, pbs.Check(id("n@pbs"), "/"), "PBS: an empty set fails every check")
	assert.False(t, pve.CheckAny(nobody, "/"))

	require.NoError(t, pbs.Grant(EntryFor("/datastore", id("n@pbs"), "DatastoreAudit", true)))
	assert.True(t, pbs.Check(id("n@pbs"), "/datastore/x"))
	assert.True(t, pbs.Check(id("n@pbs"), "/datastore/x", "Datastore.Audit"))
	assert.False(t, pbs.Check(id("n@pbs"), "/datastore/x", "Datastore.Audit", "Datastore.Read"))
	assert.True(t, pbs.CheckAny(id("n@pbs"), "/datastore/x", "Datastore.Audit", "Datastore.Read"))
	assert.True(t, pbs.IsSuperuser(id("root@pam")))
	assert.False(t, pbs.IsSuperuser(id("root@pam!t")))
	assert.Empty(t, pbs.Privileges(auth.Authid{}, "/"))
}

func TestPathsAsGiven(t *testing.T) {
	pve := NewPolicy(auth.PVE)
	u := id("u@pve")
	require.NoError(t, pve.Grant(EntryFor("/", u, "PVEAuditor", true)))
	require.NoError(t, pve.Grant(EntryFor("/vms/100", u, "PVEVMUser", true)))
	assert.Equal(t, pve.Privileges(u, "/vms/100"), pve.Privileges(u, "//vms//100/"), "empty components are skipped")
	assert.Equal(t, rolePrivSet(t, pve, true, "PVEAuditor"), pve.Privileges(u, "/not a path"), "inherits from / like the server")
	// PVE walks a path without leading '/' from its first component and
	// never consults "/" (upstream roles() splits the string as given).
	assert.Empty(t, pve.Privileges(u, "nodes"))
	assert.Equal(t, rolePrivSet(t, pve, true, "PVEVMUser"), pve.Privileges(u, "vms/100"))
	assert.Empty(t, pve.Privileges(u, ""))
	assert.Len(t, pve.Privileges(id("root@pam"), ""), 47)

	pbs := NewPolicy(auth.PBS)
	b := id("b@pbs")
	require.NoError(t, pbs.Grant(EntryFor("/", b, "Audit", true)))
	assert.Equal(t, rolePrivSet(t, pbs, true, "Audit"), pbs.Privileges(b, "datastore"), "PBS always starts at the root")
	assert.Equal(t, rolePrivSet(t, pbs, true, "Audit"), pbs.Privileges(b, ""))
}
