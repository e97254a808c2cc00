package acl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

// The worked examples E1..E12 of access-api.md section 6.6, with exact
// privilege sets and flags.

type privCase struct {
	who, path string
	want      PrivSet
}

func runPrivCases(t *testing.T, p *Policy, cases []privCase) {
	t.Helper()
	for _, c := range cases {
		got := p.Privileges(id(c.who), c.path)
		assert.Equal(t, c.want.String(), got.String(), "%s on %s", c.who, c.path)
	}
}

func TestSpecE1ReplacementNotUnion(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
acl:1:/vms:alice@pve:PVEVMUser:
acl:1:/vms/100:alice@pve:PVEAuditor:
acl:0:/storage:alice@pve:PVEDatastoreUser:
`)
	vmUser := rolePrivSet(t, p, true, "PVEVMUser")
	auditor := rolePrivSet(t, p, true, "PVEAuditor")
	storage := privSet(false, "Datastore.AllocateSpace", "Datastore.Audit")
	runPrivCases(t, p, []privCase{
		{"alice@pve", "/vms", vmUser},
		{"alice@pve", "/vms/101", vmUser},
		{"alice@pve", "/vms/100", auditor},
		{"alice@pve", "/storage", storage},
		{"alice@pve", "/storage/local", PrivSet{}},
		{"alice@pve", "/", PrivSet{}},
	})
	assert.Equal(t, privSet(true, "VM.Audit", "VM.GuestAgent.Audit", "Sys.Audit", "Datastore.Audit", "SDN.Audit", "Pool.Audit", "Mapping.Audit"), auditor)
	assert.NotContains(t, p.Privileges(id("alice@pve"), "/vms/100"), "VM.PowerMgmt")

	// The expected GET /access/permissions answer for alice.
	assert.Equal(t, map[string]PrivSet{"/vms": vmUser, "/vms/100": auditor, "/storage": storage}, p.Permissions(id("alice@pve")))
}

func TestSpecE2UserBeatsGroupDeeperBeatsHigher(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
group:ops:bob@pve:
group:audit:bob@pve:
acl:1:/:@ops:PVEVMUser:
acl:1:/:@audit:PVEAuditor:
acl:1:/vms:bob@pve:PVEPoolUser:
acl:1:/vms/100:@ops:PVETemplateUser:
`)
	union := rolePrivSet(t, p, true, "PVEVMUser", "PVEAuditor")
	require.Len(t, union, 15)
	runPrivCases(t, p, []privCase{
		{"bob@pve", "/", union},
		{"bob@pve", "/nodes/n1", union},
		{"bob@pve", "/vms", privSet(true, "Pool.Audit")},
		{"bob@pve", "/vms/101", privSet(true, "Pool.Audit")},
		{"bob@pve", "/vms/100", privSet(true, "VM.Audit", "VM.Clone")},
	})
}

func TestSpecE3InapplicableUserEntryDoesNotShadowGroups(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
group:net:hank@pve:
acl:1:/sdn/zones:hank@pve:PVESDNUser:
acl:0:/sdn/zones/z1:hank@pve:PVESDNAdmin:
acl:1:/sdn/zones/z1:@net:PVEAuditor:
`)
	runPrivCases(t, p, []privCase{
		{"hank@pve", "/sdn/zones/z1", privSet(false, "SDN.Allocate", "SDN.Audit", "SDN.Use")},
		{"hank@pve", "/sdn/zones/z1/vnet1", rolePrivSet(t, p, true, "PVEAuditor")},
		{"hank@pve", "/sdn/zones/z2/vnet1", privSet(true, "SDN.Audit", "SDN.Use")},
	})
}

func TestSpecE4NoAccess(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
group:g:carol@pve:
acl:1:/:carol@pve:PVEAdmin:
acl:1:/vms:carol@pve:NoAccess:
acl:1:/vms/200:carol@pve:PVEVMUser:
acl:0:/storage:carol@pve:NoAccess:
acl:1:/nodes:@g:NoAccess:
acl:1:/nodes:@g:PVEAuditor:
`)
	runPrivCases(t, p, []privCase{
		{"carol@pve", "/vms", PrivSet{}},
		{"carol@pve", "/vms/201", PrivSet{}},
		{"carol@pve", "/vms/200", rolePrivSet(t, p, true, "PVEVMUser")},
		{"carol@pve", "/storage", PrivSet{}},
		{"carol@pve", "/storage/local", rolePrivSet(t, p, true, "PVEAdmin")},
		{"carol@pve", "/nodes", PrivSet{}},
		{"carol@pve", "/nodes/n1", PrivSet{}},
	})
}

func TestSpecE5Tokens(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
token:dave@pve!sep::1:
token:dave@pve!full::0:
token:dave@pve!none::1:
acl:1:/vms:dave@pve:PVEVMUser:
acl:1:/:dave@pve!sep:Administrator:
acl:1:/:dave@pve!full:PVEAuditor:
`)
	vmUser := rolePrivSet(t, p, true, "PVEVMUser")
	runPrivCases(t, p, []privCase{
		{"dave@pve!sep", "/vms/100", vmUser},
		{"dave@pve!sep", "/nodes/n1", PrivSet{}},
		{"dave@pve!full", "/vms/100", vmUser},
		{"dave@pve!full", "/nodes/n1", PrivSet{}},
		{"dave@pve!none", "/vms/100", PrivSet{}},
		{"dave@pve!none", "/", PrivSet{}},
		{"dave@pve!none", "/nodes/n1", PrivSet{}},
	})
	assert.Empty(t, p.Permissions(id("dave@pve!none")))
}

func TestSpecE6FlagsUnderIntersection(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
token:erin@pve!t::1:
acl:0:/vms/100:erin@pve:PVEVMAdmin:
acl:1:/vms:erin@pve!t:PVEVMUser:
`)
	runPrivCases(t, p, []privCase{
		{"erin@pve", "/vms/100", rolePrivSet(t, p, false, "PVEVMAdmin")},
		{"erin@pve!t", "/vms/100", rolePrivSet(t, p, false, "PVEVMUser")},
		{"erin@pve!t", "/vms/101", PrivSet{}},
	})
}

func TestSpecE7Root(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
token:root@pam!auto::1:
token:root@pam!all::0:
acl:1:/vms:root@pam!auto:PVEVMUser:
`)
	all := privSet(true, AllPrivileges(auth.PVE)...)
	require.Len(t, all, 47)
	runPrivCases(t, p, []privCase{
		{"root@pam", "/", all},
		{"root@pam", "/vms/100", all},
		{"root@pam", "/anything/at/all", all},
		{"root@pam!auto", "/vms/1000", rolePrivSet(t, p, true, "PVEVMUser")},
		{"root@pam!auto", "/nodes", PrivSet{}},
		{"root@pam!all", "/nodes", all},
		{"root@pam!all", "/vms/1000", all},
	})
}

func TestSpecE8Pools(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
pool:dev::100,101:local:
acl:1:/pool/dev:frank@pve:PVEVMUser:
acl:1:/vms/101:frank@pve:NoAccess:
acl:1:/vms:gina@pve:PVEVMAdmin:
acl:1:/pool/dev:gina@pve:NoAccess:
`)
	vmUser0 := rolePrivSet(t, p, false, "PVEVMUser")
	runPrivCases(t, p, []privCase{
		{"frank@pve", "/vms/100", vmUser0},
		{"frank@pve", "/storage/local", vmUser0},
		{"frank@pve", "/vms/101", PrivSet{}},
		{"frank@pve", "/vms/102", PrivSet{}},
		{"gina@pve", "/vms/100", PrivSet{}},
		{"gina@pve", "/vms/102", rolePrivSet(t, p, true, "PVEVMAdmin")},
	})
}

func TestSpecE9PBSTokenCappedByOwner(t *testing.T) {
	p := policyFromConfig(t, auth.PBS, `
acl:1:/datastore:alice@pbs:DatastoreAdmin
acl:0:/datastore/store1:alice@pbs!backup:DatastoreBackup
acl:1:/datastore/store1:alice@pbs!backup:DatastoreReader
acl:1:/:alice@pbs!backup:Admin
`)
	store1 := privSet(true, "Datastore.Audit", "Datastore.Read", "Datastore.Verify")
	store1["Datastore.Backup"] = false
	runPrivCases(t, p, []privCase{
		{"alice@pbs!backup", "/datastore/store1", store1},
		{"alice@pbs!backup", "/datastore/store1/ns1", privSet(true, "Datastore.Audit", "Datastore.Read", "Datastore.Verify")},
		{"alice@pbs!backup", "/datastore/store2", rolePrivSet(t, p, true, "DatastoreAdmin")},
		{"alice@pbs!backup", "/system", PrivSet{}},
	})
	assert.NotContains(t, p.Privileges(id("alice@pbs!backup"), "/datastore/store2"), "Datastore.Allocate")
}

func TestSpecE10PBSNoAccessWithNonPropagatingChild(t *testing.T) {
	p := policyFromConfig(t, auth.PBS, `
acl:1:/remote:alice@pbs:NoAccess
acl:0:/remote/r1:alice@pbs:RemoteSyncOperator
`)
	runPrivCases(t, p, []privCase{
		{"alice@pbs", "/remote/r1", privSet(false, "Remote.Audit", "Remote.Read")},
		{"alice@pbs", "/remote/r1/store", PrivSet{}},
		{"alice@pbs", "/remote/r2", PrivSet{}},
	})
}

func TestSpecE11PBSRootAndItsTokens(t *testing.T) {
	p := NewPolicy(auth.PBS)
	all := privSet(true, AllPrivileges(auth.PBS)...)
	for _, path := range []string{"/", "/datastore/x", "/system/network"} {
		assert.Equal(t, all, p.Privileges(id("root@pam"), path))
		assert.Empty(t, p.Privileges(id("root@pam!t"), path))
	}
	assert.Empty(t, p.Permissions(id("root@pam!t")))
}

func TestSpecE12PBSNoAccessStorage(t *testing.T) {
	p := NewPolicy(auth.PBS)
	bob := id("bob@pbs")
	grant := func(role string) {
		require.NoError(t, p.Grant(EntryFor("/datastore", bob, role, true)))
	}
	roles := func() []string {
		var out []string
		for _, e := range p.Entries() {
			out = append(out, e.Role)
		}
		return out
	}
	grant("Admin")
	grant("Audit")
	assert.Equal(t, []string{"Admin", "Audit"}, roles())
	grant("NoAccess")
	assert.Equal(t, []string{"NoAccess"}, roles())
	grant("Admin")
	assert.Equal(t, []string{"Admin"}, roles())

	g := policyFromConfig(t, auth.PBS, "acl:1:/:@admins:Admin")
	require.Len(t, g.Entries(), 1)
	for _, who := range []string{"bob@pbs", "admins@pbs", "bob@pbs!t"} {
		assert.Empty(t, g.Permissions(id(who)), who)
	}
}
