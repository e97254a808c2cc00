package acl_test

import (
	"fmt"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
)

func show(s acl.PrivSet) string {
	if len(s) == 0 {
		return "(nothing)"
	}
	return s.String()
}

// A PBS backup token is capped by its owner: it gets only what both hold,
// and a privilege is propagated only if it is for both.
func ExamplePolicy_Privileges() {
	p := acl.NewPolicy(auth.PBS)
	owner := auth.MustParseAuthid("alice@pbs")
	token := auth.MustParseAuthid("alice@pbs!backup")
	for _, e := range []acl.Entry{
		acl.EntryFor("/datastore", owner, "DatastoreAdmin", true),
		acl.EntryFor("/datastore/store1", token, "DatastoreBackup", false),
		acl.EntryFor("/datastore/store1", token, "DatastoreReader", true),
		acl.EntryFor("/", token, "Admin", true),
	} {
		if err := p.Grant(e); err != nil {
			fmt.Println(err)
		}
	}
	for _, path := range []string{"/datastore/store1", "/datastore/store1/ns1", "/system"} {
		fmt.Printf("%s: %s\n", path, show(p.Privileges(token, path)))
	}
	fmt.Println(p.Check(token, "/datastore/store1", "Datastore.Backup"))
	// Output:
	// /datastore/store1: Datastore.Audit[1],Datastore.Backup[0],Datastore.Read[1],Datastore.Verify[1]
	// /datastore/store1/ns1: Datastore.Audit[1],Datastore.Read[1],Datastore.Verify[1]
	// /system: (nothing)
	// true
}

// On PVE, a token without privilege separation has exactly its owner's
// privileges; its own ACL entries are ignored.
func ExampleNewPolicy() {
	p := acl.NewPolicy(auth.PVE)
	owner := auth.MustParseAuthid("ci@pve")
	sep := auth.MustParseAuthid("ci@pve!sep")
	full := auth.MustParseAuthid("ci@pve!full")
	_ = p.SetToken(sep, true)
	_ = p.SetToken(full, false)
	_ = p.Grant(acl.EntryFor("/vms", owner, "PVETemplateUser", true))
	_ = p.Grant(acl.EntryFor("/", sep, "PVEAuditor", true))
	_ = p.Grant(acl.EntryFor("/", full, "PVEAuditor", true))

	for _, who := range []auth.Authid{owner, sep, full} {
		fmt.Printf("%s on /vms/100: %s\n", who, show(p.Privileges(who, "/vms/100")))
		fmt.Printf("%s on /nodes: %s\n", who, show(p.Privileges(who, "/nodes")))
	}
	// Output:
	// ci@pve on /vms/100: VM.Audit[1],VM.Clone[1]
	// ci@pve on /nodes: (nothing)
	// ci@pve!sep on /vms/100: VM.Audit[1]
	// ci@pve!sep on /nodes: (nothing)
	// ci@pve!full on /vms/100: VM.Audit[1],VM.Clone[1]
	// ci@pve!full on /nodes: (nothing)
}

// Permissions is what GET /access/permissions reports without a path.
func ExamplePolicy_Permissions() {
	p := acl.NewPolicy(auth.PVE)
	alice := auth.MustParseAuthid("alice@pve")
	_ = p.Grant(acl.EntryFor("/storage", alice, "PVEDatastoreUser", false))
	_ = p.Grant(acl.EntryFor("/vms/100", alice, "PVETemplateUser", true))
	perms := p.Permissions(alice)
	for _, path := range []string{"/", "/storage", "/vms", "/vms/100"} {
		fmt.Printf("%s: %s\n", path, show(perms[path]))
	}
	// Output:
	// /: (nothing)
	// /storage: Datastore.AllocateSpace[0],Datastore.Audit[0]
	// /vms: (nothing)
	// /vms/100: VM.Audit[1],VM.Clone[1]
}

func ExampleLint() {
	p := acl.NewPolicy(auth.PVE)
	deploy := auth.MustParseAuthid("ci@pve!deploy")
	idle := auth.MustParseAuthid("ci@pve!idle")
	_ = p.SetToken(deploy, true)
	_ = p.SetToken(idle, true)
	_ = p.Grant(acl.EntryFor("/", deploy, "Administrator", true))
	_ = p.Grant(acl.EntryFor("/vms", auth.MustParseAuthid("ci@pve"), "PVEVMAdmin", true))

	accounts := []acl.Account{
		{ID: auth.MustParseAuthid("ci@pve")},
		{ID: auth.MustParseAuthid("old@pve"), Expire: 1700000000},
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// The deploy token is critical (Administrator on /) and also useless on
	// / itself, where its owner holds nothing.
	for _, f := range acl.Lint(p, accounts, now) {
		line := fmt.Sprint(f.Severity, " ", f.Check, " ", f.Subject)
		if f.Path != "" {
			line += " on " + f.Path
		}
		fmt.Println(line)
	}
	// Output:
	// critical admin-at-root ci@pve!deploy on /
	// warning token-capped-to-nothing ci@pve!deploy on /
	// info expired old@pve
	// info token-no-acl ci@pve!idle
}

func ExampleValidatePath() {
	for _, path := range []string{"/vms/100", "/vms/42", "/datastore/store1/ns1"} {
		fmt.Println(path, acl.ValidatePath(auth.PVE, path))
	}
	fmt.Println(acl.ValidatePath(auth.PBS, "/datastore/store1/ns1"))
	norm, _ := acl.NormalizePath(auth.PVE, "//vms//100/")
	fmt.Println(norm)
	// Output:
	// /vms/100 <nil>
	// /vms/42 PVE: invalid ACL path "/vms/42": "42" is not a VM id (decimal, no leading zero, >= 100)
	// /datastore/store1/ns1 PVE: invalid ACL path "/datastore/store1/ns1": unknown component "datastore" below /; expected one of access, mapping, nodes, pool, sdn, storage, vms
	// <nil>
	// /vms/100
}
