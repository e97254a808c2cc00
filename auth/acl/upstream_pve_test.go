package acl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

// Assertions of pve-access-control's src/test/perm-test{1..8}.pl, each run
// against the configuration its test file uses (written here in user.cfg
// syntax). "roles" checks PVE's roles() (EffectiveRoles: no pools, no owner
// intersection); "perm" checks $rpcenv->permissions() (Privileges).

type upstreamCheck struct {
	kind       string // "roles" or "perm"
	who, path  string
	wantJoined string // sorted names joined by ','
}

func runUpstream(t *testing.T, p *Policy, checks []upstreamCheck) {
	t.Helper()
	for _, c := range checks {
		var got string
		switch c.kind {
		case "roles":
			got = joinedRoles(p.EffectiveRoles(id(c.who), c.path))
		case "perm":
			got = joinedPrivs(p.Privileges(id(c.who), c.path))
		default:
			t.Fatalf("bad kind %q", c.kind)
		}
		assert.Equal(t, c.wantJoined, got, "%s %s on %q", c.kind, c.who, c.path)
	}
}

const upstreamTest1 = `
group:testgroup1:joe@pve,max@pve,sue@pve:
group:testgroup2:alex@pve,carol@pam,sue@pve:
group:testgroup3:max@pve:
role:storage_manager:Datastore.AllocateSpace,Datastore.Audit:
role:customer:VM.Audit,VM.PowerMgmt:
role:vm_admin:VM.Audit,VM.Allocate,Permissions.Modify,VM.Console:
acl:1:/vms:@testgroup1:vm_admin:
acl:1:/vms/100/:alex@pve,max@pve:customer:
acl:1:/storage/nfs1:@testgroup2:storage_manager:
acl:1:/users:max@pve:Administrator:
acl:1:/vms/200:@testgroup3:storage_manager:
acl:1:/vms/200:@testgroup2:NoAccess:
acl:1:/vms/300:alex@pve:PVEVMAdmin:
acl:1:/vms/400:alex@pve:Administrator:
`

const vmAdminPrivs = "VM.Allocate,VM.Audit,VM.Backup,VM.Clone,VM.Config.CDROM,VM.Config.CPU,VM.Config.Cloudinit," +
	"VM.Config.Disk,VM.Config.HWType,VM.Config.Memory,VM.Config.Network,VM.Config.Options," +
	"VM.Console,VM.GuestAgent.Audit,VM.GuestAgent.FileRead,VM.GuestAgent.FileSystemMgmt," +
	"VM.GuestAgent.FileWrite,VM.GuestAgent.Unrestricted,VM.Migrate,VM.PowerMgmt,VM.Replicate," +
	"VM.Snapshot,VM.Snapshot.Rollback"

const administratorPrivs = "Datastore.Allocate,Datastore.AllocateSpace,Datastore.AllocateTemplate,Datastore.Audit," +
	"Group.Allocate," +
	"Mapping.Audit,Mapping.Modify,Mapping.Use," +
	"Permissions.Modify," +
	"Pool.Allocate,Pool.Audit," +
	"Realm.Allocate,Realm.AllocateUser," +
	"SDN.Allocate,SDN.Audit,SDN.Use," +
	"Sys.AccessNetwork,Sys.Audit,Sys.Console,Sys.Incoming,Sys.Modify,Sys.PowerMgmt,Sys.Syslog," +
	"User.Modify," + vmAdminPrivs

func TestUpstreamPVEPermTest1(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, upstreamTest1)
	runUpstream(t, p, []upstreamCheck{
		{"roles", "max@pve", "/", ""},
		{"roles", "max@pve", "/vms", "vm_admin"},
		{"roles", "max@pve", "/vms/100", "customer"},
		{"roles", "max@pve", "/vms/101", "vm_admin"},
		{"perm", "max@pve", "/", ""},
		{"perm", "max@pve", "/vms", "Permissions.Modify,VM.Allocate,VM.Audit,VM.Console"},
		{"perm", "max@pve", "/vms/100", "VM.Audit,VM.PowerMgmt"},
		{"perm", "alex@pve", "/vms", ""},
		{"perm", "alex@pve", "/vms/100", "VM.Audit,VM.PowerMgmt"},
		{"perm", "alex@pve", "/vms/300", vmAdminPrivs},
		{"perm", "alex@pve", "/vms/400", administratorPrivs},
		{"roles", "max@pve", "/vms/200", "storage_manager"},
		{"roles", "joe@pve", "/vms/200", "vm_admin"},
		{"roles", "sue@pve", "/vms/200", "NoAccess"},
	})
}

func TestUpstreamPVEPermTest2(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
group:GroupA:User1@pve:
group:GroupB:User1@pve:
role:Role1:VM.PowerMgmt:
role:Role2:VM.Console:
acl:1:/vms:@GroupA:Role1:
acl:1:/vms:@GroupB:Role2:
`)
	runUpstream(t, p, []upstreamCheck{
		{"roles", "User1@pve", "/", ""},
		{"roles", "User2@pve", "/", ""},
		{"roles", "User1@pve", "/vms", "Role1,Role2"},
		{"roles", "User2@pve", "/vms", ""},
		{"roles", "User1@pve", "/vms/100", "Role1,Role2"},
		{"roles", "User2@pve", "/vms", ""},
	})
}

func TestUpstreamPVEPermTest3(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
group:GroupA:User1@pve:
group:GroupB:User1@pve:
role:Role1:VM.PowerMgmt:
role:Role2:VM.Console:
acl:1:/vms:@GroupA:Role1:
acl:1:/vms/200:@GroupB:Role2:
`)
	runUpstream(t, p, []upstreamCheck{
		{"roles", "User1@pve", "", ""},
		{"roles", "User2@pve", "", ""},
		{"roles", "User1@pve", "/vms/300", "Role1"},
		{"roles", "User1@pve", "/vms/200", "Role2"},
	})
}

func TestUpstreamPVEPermTest4(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
group:GroupA:User1@pve,User2@pve:
group:GroupB:User1@pve,User2@pve:
role:Role1:VM.PowerMgmt:
role:Role2:VM.Console:
acl:1:/vms:@GroupA:Role1:
acl:1:/vms:User2@pve:NoAccess:
`)
	runUpstream(t, p, []upstreamCheck{
		{"roles", "User1@pve", "/vms/300", "Role1"},
		{"roles", "User2@pve", "/vms/300", "NoAccess"},
	})
}

func TestUpstreamPVEPermTest5(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
group:GroupA:User1@pve,User2@pve:
group:GroupB:User1@pve,User2@pve:
role:Role1:VM.PowerMgmt:
role:Role2:VM.Console:
role:Role3:VM.Console:
acl:1:/vms:User1@pve:Role1:
acl:1:/vms/100/a/b:User1@pve:Role2:
acl:0:/kvm:User2@pve:Role2:
acl:0:/kvm/vms:User2@pve:Role1:
acl:0:/kvm/vms/100/a:User2@pve:Role3:
`)
	runUpstream(t, p, []upstreamCheck{
		{"roles", "User1@pve", "/vms", "Role1"},
		{"roles", "User1@pve", "/vms/100", "Role1"},
		{"roles", "User1@pve", "/vms/100/a", "Role1"},
		{"roles", "User1@pve", "/vms/100/a/b", "Role2"},
		{"roles", "User1@pve", "/vms/100/a/b/c", "Role2"},
		{"roles", "User1@pve", "/vms/200", "Role1"},
		{"roles", "User2@pve", "/kvm", "Role2"},
		{"roles", "User2@pve", "/kvm/vms", "Role1"},
		{"roles", "User2@pve", "/kvm/vms/100", ""},
		{"roles", "User2@pve", "/kvm/vms/100/a", "Role3"},
		{"roles", "User2@pve", "/kvm/vms/100/a/b", ""},
	})
}

const upstreamTest6 = `
group:DEVEL:User1@pve,User2@pve,User3@pve:
group:MARKETING:User1@pve,User4@pve:
group:INTERNS:intern@pve:
role:RoleDEVEL:VM.PowerMgmt:
role:RoleMARKETING:VM.Console:
role:RoleINTERN:VM.Audit:
role:RoleTEST1:VM.Console:
acl:1:/pool/devel:@DEVEL:RoleDEVEL:
acl:1:/pool/marketing:@MARKETING:RoleMARKETING:
acl:1:/pool/marketing/interns:@INTERNS:RoleINTERN:
acl:1:/vms:@DEVEL:RoleTEST1:
acl:1:/vms:User3@pve:NoAccess:
acl:1:/vms/300:@MARKETING:RoleTEST1:
pool:devel:MITS development:500,501,502:store1 store2:
pool:marketing:MITS marketing:600:store1:
pool:marketing/interns:MITS marketing intern:700:store3:
`

func TestUpstreamPVEPermTest6Pools(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, upstreamTest6)
	runUpstream(t, p, []upstreamCheck{
		{"roles", "User1@pve", "", ""},
		{"roles", "User2@pve", "", ""},
		{"roles", "User3@pve", "", ""},
		{"roles", "User4@pve", "", ""},

		{"roles", "User1@pve", "/vms", "RoleTEST1"},
		{"roles", "User2@pve", "/vms", "RoleTEST1"},
		{"roles", "User3@pve", "/vms", "NoAccess"},
		{"roles", "User4@pve", "/vms", ""},

		{"roles", "User1@pve", "/vms/100", "RoleTEST1"},
		{"roles", "User2@pve", "/vms/100", "RoleTEST1"},
		{"roles", "User3@pve", "/vms/100", "NoAccess"},
		{"roles", "User4@pve", "/vms/100", ""},

		{"roles", "User1@pve", "/vms/300", "RoleTEST1"},
		{"roles", "User2@pve", "/vms/300", "RoleTEST1"},
		{"roles", "User3@pve", "/vms/300", "NoAccess"},
		{"roles", "User4@pve", "/vms/300", "RoleTEST1"},

		{"perm", "User1@pve", "/vms/500", "VM.Console,VM.PowerMgmt"},
		{"perm", "User2@pve", "/vms/500", "VM.Console,VM.PowerMgmt"},
		{"roles", "User3@pve", "/vms/500", "NoAccess"},
		{"perm", "User3@pve", "/vms/500", ""},
		{"roles", "User4@pve", "/vms/500", ""},
		{"perm", "User4@pve", "/vms/500", ""},

		{"roles", "intern@pve", "/vms/600", ""},
		{"roles", "intern@pve", "/vms/700", ""},
		{"roles", "User4@pve", "/vms/700", ""},
		{"perm", "intern@pve", "/vms/600", ""},
		{"perm", "intern@pve", "/vms/700", "VM.Audit"},
		{"perm", "User4@pve", "/vms/700", "VM.Console"},

		{"roles", "intern@pve", "/pool/marketing/interns", "RoleINTERN"},
		{"roles", "User4@pve", "/pool/marketing/interns", "RoleMARKETING"},

		{"perm", "User1@pve", "/vms/600", "VM.Console"},
		{"perm", "User2@pve", "/vms/600", "VM.Console"},
		{"perm", "User3@pve", "/vms/600", ""},
		{"perm", "User4@pve", "/vms/600", "VM.Console"},

		{"perm", "User1@pve", "/storage/store1", "VM.Console,VM.PowerMgmt"},
		{"perm", "User2@pve", "/storage/store1", "VM.PowerMgmt"},
		{"perm", "User3@pve", "/storage/store1", "VM.PowerMgmt"},
		{"perm", "User4@pve", "/storage/store1", "VM.Console"},

		{"perm", "User1@pve", "/storage/store2", "VM.PowerMgmt"},
		{"perm", "User2@pve", "/storage/store2", "VM.PowerMgmt"},
		{"perm", "User3@pve", "/storage/store2", "VM.PowerMgmt"},
		{"perm", "User4@pve", "/storage/store2", ""},
	})
}

func TestUpstreamPVEPermTest7PoolNoAccess(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
group:GroupA:User1@pve,User2@pve:
group:GroupB:User1@pve,User2@pve:
role:Role1:VM.PowerMgmt:
role:Role2:VM.Console:
role:Role3:VM.Console:
acl:1:/pool/devel:User1@pve:NoAccess:
acl:1:/vms:User1@pve:Role1:
pool:devel:Development:100:store1:
`)
	runUpstream(t, p, []upstreamCheck{
		{"roles", "User1@pve", "/vms", "Role1"},
		{"roles", "User1@pve", "/vms/200", "Role1"},
		{"roles", "User1@pve", "/vms/100", "Role1"},
		{"perm", "User1@pve", "/vms/100", ""},
	})
}

const upstreamTest8 = `
token:max@pve!token::0:
token:max@pve!token2::1:
token:carol@pam!token:
group:testgroup1:joe@pve,max@pve,sue@pve:
group:testgroup2:alex@pve,carol@pam,sue@pve:
group:testgroup3:max@pve:
role:storage_manager:Datastore.AllocateSpace,Datastore.Audit:
role:customer:VM.Audit,VM.PowerMgmt:
role:vm_admin:VM.Audit,VM.Allocate,VM.Console:
acl:1:/vms:@testgroup1:vm_admin:
acl:0:/vms/300:max@pve:customer:
acl:1:/vms/300:max@pve:vm_admin:
acl:1:/vms/100/:alex@pve,max@pve:customer:
acl:1:/storage/nfs1:@testgroup2:storage_manager:
acl:1:/users:max@pve:Administrator:
acl:1:/vms/200:@testgroup3:storage_manager:
acl:1:/vms/200:@testgroup2:NoAccess:
acl:1:/vms/200:carol@pam!token:vm_admin
acl:1:/vms/200:max@pve!token:storage_manager
acl:1:/vms/200:max@pve!token2:customer
acl:1:/vms/300:max@pve!token2:Administrator
`

func TestUpstreamPVEPermTest8Tokens(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, upstreamTest8)
	runUpstream(t, p, []upstreamCheck{
		{"roles", "max@pve", "/", ""},
		{"roles", "max@pve", "/vms", "vm_admin"},
		{"roles", "max@pve", "/vms/100", "customer"},
		{"roles", "max@pve", "/vms/101", "vm_admin"},
		{"perm", "max@pve", "/", ""},
		{"perm", "max@pve", "/vms", "VM.Allocate,VM.Audit,VM.Console"},
		{"perm", "max@pve", "/vms/100", "VM.Audit,VM.PowerMgmt"},
		{"perm", "alex@pve", "/vms", ""},
		{"perm", "alex@pve", "/vms/100", "VM.Audit,VM.PowerMgmt"},
		{"roles", "max@pve", "/vms/200", "storage_manager"},
		{"roles", "joe@pve", "/vms/200", "vm_admin"},
		{"roles", "sue@pve", "/vms/200", "NoAccess"},
		// A token line without a privsep field means privsep 0: the token
		// gets its owner's roles and its own vm_admin entry is ignored.
		{"roles", "carol@pam", "/vms/200", "NoAccess"},
		{"roles", "carol@pam!token", "/vms/200", "NoAccess"},
		{"roles", "max@pve!token", "/vms/200", "storage_manager"},
		{"roles", "max@pve!token2", "/vms/200", "customer"},
		// Token holds Administrator, its owner only vm_admin + customer.
		{"perm", "max@pve!token2", "/vms/300", "VM.Allocate,VM.Audit,VM.Console,VM.PowerMgmt"},
	})
}

// Upstream's api-get-permissions-test.pl: who may read whose permissions,
// and which permissions they read.
func TestUpstreamPVEGetPermissions(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
token:auditor@pam!noprivsep::0:
token:auditor@pam!privsep::1:
token:stranger@pve!noprivsep::0:
token:stranger@pve!privsep::1:
role:sys_auditor:Sys.Audit:
role:vm_lurker:VM.Audit,VM.Console:
role:vm_manager:VM.PowerMgmt:
acl:1:/access:auditor@pam:sys_auditor:
acl:1:/vms:auditor@pam:vm_lurker:
acl:1:/vms:auditor@pam!privsep:vm_lurker:
acl:1:/vms:stranger@pve:vm_lurker:
acl:1:/vms:stranger@pve:vm_manager:
acl:1:/vms:stranger@pve!privsep:vm_lurker:
`)
	const (
		stranger        = "stranger@pve"
		strangerNoSep   = "stranger@pve!noprivsep"
		strangerPrivsep = "stranger@pve!privsep"
		auditor         = "auditor@pam"
		auditorNoSep    = "auditor@pam!noprivsep"
		auditorPrivsep  = "auditor@pam!privsep"
	)
	// Non-privsep tokens read exactly their owner's permissions.
	assert.Equal(t, p.Permissions(id(stranger)), p.Permissions(id(strangerNoSep)))
	assert.Equal(t, p.Permissions(id(auditor)), p.Permissions(id(auditorNoSep)))
	assert.Equal(t, map[string]PrivSet{"/vms": privSet(true, "VM.Audit", "VM.Console")}, p.Permissions(id(strangerPrivsep)))
	assert.Equal(t, map[string]PrivSet{
		"/access":        privSet(true, "Sys.Audit"),
		"/access/groups": privSet(true, "Sys.Audit"),
		"/vms":           privSet(true, "VM.Audit", "VM.Console"),
	}, p.Permissions(id(auditor)))

	cases := []struct {
		caller, target string
		ok             bool
	}{
		{stranger, stranger, true},
		{stranger, strangerNoSep, true},
		{stranger, strangerPrivsep, true},
		{stranger, auditor, false},
		{stranger, auditorNoSep, false},
		{strangerNoSep, strangerNoSep, true},
		{strangerNoSep, stranger, false},
		{strangerNoSep, strangerPrivsep, false},
		{strangerNoSep, auditorNoSep, false},
		{strangerPrivsep, strangerPrivsep, true},
		{strangerPrivsep, stranger, false},
		{strangerPrivsep, strangerNoSep, false},
		{strangerPrivsep, auditorNoSep, false},
		{auditor, auditor, true},
		{auditor, auditorNoSep, true},
		{auditor, auditorPrivsep, true},
		{auditor, stranger, true},
		{auditor, strangerNoSep, true},
		{auditorNoSep, auditorNoSep, true},
		{auditorNoSep, auditor, true},
		{auditorNoSep, auditorPrivsep, true},
		{auditorNoSep, strangerNoSep, true},
		{auditorPrivsep, auditorPrivsep, true},
		{auditorPrivsep, auditor, false},
		{auditorPrivsep, auditorNoSep, false},
		{auditorPrivsep, strangerNoSep, false},
	}
	for _, c := range cases {
		err := p.CanQueryPermissions(id(c.caller), id(c.target))
		if c.ok {
			assert.NoError(t, err, "%s asks about %s", c.caller, c.target)
			continue
		}
		require.Error(t, err, "%s asks about %s", c.caller, c.target)
		assert.ErrorIs(t, err, ErrPermission)
		assert.Equal(t, "/access, Sys.Audit", err.Error())
	}
}
