package acl

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

func TestBuiltinRolesPVE(t *testing.T) {
	roles := BuiltinRoles(auth.PVE)
	assert.Len(t, roles, 17)
	assert.Len(t, AllPrivileges(auth.PVE), 47)
	assert.Equal(t, AllPrivileges(auth.PVE), roles["Administrator"])
	assert.Empty(t, roles["NoAccess"])
	assert.Equal(t, []string{"VM.Audit", "VM.Clone"}, roles["PVETemplateUser"])
	assert.True(t, slices.IsSorted(AllPrivileges(auth.PVE)))

	// PVEAdmin: everything but the root-only privileges, Permissions.Modify
	// and Mapping.Modify.
	admin := setOf(roles["PVEAdmin"])
	for _, p := range []string{"Sys.PowerMgmt", "Sys.Modify", "Sys.Incoming", "Sys.AccessNetwork", "Realm.Allocate", "Permissions.Modify", "Mapping.Modify"} {
		assert.False(t, admin[p], p)
	}
	assert.Len(t, admin, 47-7)
	for _, r := range []string{"PVESysUser", "PVEUserUser"} {
		assert.NotContains(t, roles, r)
	}

	// A copy: changing it does not change the tables.
	roles["NoAccess"] = append(roles["NoAccess"], "VM.Audit")
	assert.Empty(t, BuiltinRoles(auth.PVE)["NoAccess"])
}

func TestBuiltinRolesPBS(t *testing.T) {
	roles := BuiltinRoles(auth.PBS)
	assert.Len(t, roles, 18)
	all := AllPrivileges(auth.PBS)
	require.Len(t, all, 23)
	assert.Equal(t, "Sys.Audit", all[0])
	assert.Equal(t, "Realm.Allocate", all[len(all)-1])
	assert.ElementsMatch(t, all, roles["Admin"])
	assert.Equal(t, []string{"Datastore.Audit", "Datastore.Backup", "Datastore.Modify", "Datastore.Prune", "Datastore.Read", "Datastore.Verify"}, roles["DatastoreAdmin"])
	assert.NotContains(t, roles["DatastoreAdmin"], "Datastore.Allocate")
	assert.Equal(t, []string{"Datastore.Audit", "Sys.Audit"}, roles["Audit"])
	assert.True(t, IsBuiltinRole(auth.PBS, "RemoteDatastoreAdmin"))
	assert.False(t, IsBuiltinRole(auth.PBS, "Administrator"))
	assert.False(t, IsPrivilege(auth.PBS, "VM.Audit"))
	assert.True(t, IsPrivilege(auth.PVE, "VM.Audit"))
}

func TestPBSPrivilegeBits(t *testing.T) {
	cases := []struct {
		name        string
		new, old    uint64
		existsIn3_2 bool
	}{
		{"Sys.Audit", 1, 1, true},
		{"Permissions.Modify", 1024, 1024, true},
		{"Remote.Read", 8192, 8192, true},
		{"Remote.DatastoreBackup", 16384, 0, false},
		{"Remote.DatastorePrune", 65536, 0, false},
		{"Sys.Console", 131072, 16384, true},
		{"Tape.Audit", 262144, 32768, true},
		{"Tape.Read", 2097152, 262144, true},
		{"Realm.Allocate", 4194304, 524288, true},
	}
	for _, c := range cases {
		bit, ok := PBSPrivilegeBit(c.name, false)
		require.True(t, ok, c.name)
		assert.Equal(t, c.new, bit, c.name)
		bit, ok = PBSPrivilegeBit(c.name, true)
		assert.Equal(t, c.existsIn3_2, ok, c.name)
		assert.Equal(t, c.old, bit, c.name)
	}
	_, ok := PBSPrivilegeBit("VM.Audit", false)
	assert.False(t, ok)

	// The same mask means different privileges before and after 3.3.
	assert.Equal(t, []string{"Remote.DatastoreBackup"}, PBSPrivilegeNames(16384, false))
	assert.Equal(t, []string{"Sys.Console"}, PBSPrivilegeNames(16384, true))
	assert.Equal(t, AllPrivileges(auth.PBS), PBSPrivilegeNames(^uint64(0), false))
	assert.Len(t, PBSPrivilegeNames(^uint64(0), true), 20)

	// Every bit is a distinct power of two in both tables.
	for _, old := range []bool{false, true} {
		seen := map[uint64]bool{}
		for _, name := range AllPrivileges(auth.PBS) {
			bit, ok := PBSPrivilegeBit(name, old)
			if !ok {
				continue
			}
			assert.Equal(t, uint64(0), bit&(bit-1), name)
			assert.False(t, seen[bit], name)
			seen[bit] = true
		}
	}
}

func TestCustomRoles(t *testing.T) {
	p := NewPolicy(auth.PVE)
	require.NoError(t, p.SetRole("backup-op", []string{"VM.Backup", "Datastore.AllocateSpace", "VM.Backup"}))
	privs, ok := p.Role("backup-op")
	require.True(t, ok)
	assert.Equal(t, []string{"Datastore.AllocateSpace", "VM.Backup"}, privs)
	assert.False(t, p.IsBuiltinRole("backup-op"))
	assert.Contains(t, p.RoleNames(), "backup-op")

	// Replacing privileges of an existing custom role.
	require.NoError(t, p.SetRole("backup-op", []string{"VM.Audit"}))
	privs, _ = p.Role("backup-op")
	assert.Equal(t, []string{"VM.Audit"}, privs)

	refusals := []struct {
		role     string
		privs    []string
		sentinel error
		text     string
	}{
		{"PVEBackup", nil, ErrInvalidRoleID, "'PVE' namespace"},
		{"pveBackup", nil, ErrInvalidRoleID, "'PVE' namespace"},
		{"pVe", nil, ErrInvalidRoleID, "'PVE' namespace"},
		{"bad role", nil, ErrInvalidRoleID, "invalid characters"},
		{"", nil, ErrInvalidRoleID, "invalid characters"},
		{"Administrator", nil, ErrBuiltinRole, "auto-generated role 'Administrator' cannot be modified"},
		{"PVEAdmin", nil, ErrBuiltinRole, "cannot be modified"},
		{"ok", []string{"VM.Monitor"}, ErrUnknownPrivilege, "invalid privilege 'VM.Monitor'"},
		{"ok", []string{"Datastore.Backup"}, ErrUnknownPrivilege, "invalid privilege"},
	}
	for _, c := range refusals {
		err := p.SetRole(c.role, c.privs)
		require.Error(t, err, c.role)
		assert.ErrorIs(t, err, c.sentinel, c.role)
		assert.Contains(t, err.Error(), c.text, c.role)
		var ce *ConfigError
		require.ErrorAs(t, err, &ce)
	}
	_, ok = p.Role("ok")
	assert.False(t, ok, "a refused role is not created")

	assert.ErrorIs(t, p.DeleteRole("NoAccess"), ErrBuiltinRole)
	assert.ErrorIs(t, p.DeleteRole("missing"), ErrUnknownRole)
	assert.ErrorIs(t, NewPolicy(auth.PBS).SetRole("x", nil), ErrUnsupported)
}

func TestDeleteRoleRemovesItsEntries(t *testing.T) {
	p := NewPolicy(auth.PVE)
	require.NoError(t, p.SetRole("ops", []string{"VM.PowerMgmt"}))
	alice := id("alice@pve")
	require.NoError(t, p.Grant(EntryFor("/vms", alice, "ops", true)))
	require.NoError(t, p.Grant(EntryFor("/vms", alice, "PVEAuditor", true)))
	require.NoError(t, p.Grant(EntryFor("/nodes", alice, "ops", true)))
	require.NoError(t, p.DeleteRole("ops"))
	assert.Equal(t, []Entry{{Path: "/vms", Type: User, Subject: "alice@pve", Role: "PVEAuditor", Propagate: true}}, p.Entries())
	assert.NotContains(t, p.Privileges(alice, "/vms/100"), "VM.PowerMgmt")
	assert.ErrorIs(t, p.Grant(EntryFor("/vms", alice, "ops", true)), ErrUnknownRole)
}

func TestSortPrivileges(t *testing.T) {
	names := []string{"Tape.Read", "Zzz", "Sys.Console", "Datastore.Audit", "Aaa", "Sys.Audit"}
	SortPrivileges(auth.PBS, names)
	assert.Equal(t, []string{"Sys.Audit", "Datastore.Audit", "Sys.Console", "Tape.Read", "Aaa", "Zzz"}, names)
	SortPrivileges(auth.PVE, names)
	assert.Equal(t, []string{"Datastore.Audit", "Sys.Audit", "Sys.Console", "Aaa", "Tape.Read", "Zzz"}, names)
}
