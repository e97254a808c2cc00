package pve_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pve"
	"github.com/proxkit/proxkit/pve/pvetest"
)

// startMock starts the in-process mock and an admin client for the
// examples.
func startMock() (*pvetest.Server, *pve.Client) {
	srv, err := pvetest.Start()
	if err != nil {
		log.Fatal(err)
	}
	c, err := pve.NewClient(srv.URL, pve.WithFingerprint(srv.Fingerprint), pve.WithCredentials(srv.AdminToken))
	if err != nil {
		log.Fatal(err)
	}
	return srv, c
}

func ExampleNewClient() {
	srv, err := pvetest.Start() // a real server: its URL and certificate fingerprint
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	c, err := pve.NewClient(srv.URL,
		pve.WithFingerprint(srv.Fingerprint),
		pve.WithToken(srv.AdminToken.ID, srv.AdminToken.Secret))
	if err != nil {
		log.Fatal(err)
	}
	v, err := c.Version(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("PVE", v.Release, "as", c.AuthID())
	// Output: PVE 9.1 as root@pam!admin
}

func ExampleAccessService_CreateToken() {
	srv, c := startMock()
	defer srv.Close()
	ctx := context.Background()

	user := auth.MustParseUserid("backup@pve")
	if err := c.Access.CreateUser(ctx, user, &pve.UserOptions{Comment: "nightly backups"}); err != nil {
		log.Fatal(err)
	}
	tok, err := c.Access.CreateToken(ctx, auth.MustParseAuthid("backup@pve!nightly"), nil)
	if err != nil {
		log.Fatal(err)
	}
	// The secret is shown once: store it now. It never prints.
	fmt.Println(tok.ID, "privsep:", tok.Privsep, "secret:", tok.Secret, len(tok.Secret.Reveal()), "characters")
	// Output: backup@pve!nightly privsep: true secret: [redacted] 36 characters
}

// A privilege-separated token needs its own ACL entry and gets only what
// its user also holds there: the most common "token created but nothing
// works" report.
func ExampleAccessService_Grant() {
	srv, c := startMock()
	defer srv.Close()
	ctx := context.Background()

	user := auth.MustParseUserid("monitor@pve")
	_ = c.Access.CreateUser(ctx, user, nil)
	tok, _ := c.Access.CreateToken(ctx, auth.MustParseAuthid("monitor@pve!ro"), nil)
	mon, _ := pve.NewClient(srv.URL, pve.WithFingerprint(srv.Fingerprint), pve.WithCredentials(tok.Credentials()))
	canAudit := func() bool {
		perms, err := mon.Access.Permissions(ctx, &pve.PermissionsOptions{Path: "/vms/100"})
		return err == nil && perms["/vms/100"].Has("VM.Audit")
	}

	grant := pve.ACLChange{Path: "/vms/100", Roles: []string{"PVEAuditor"}, Tokens: []auth.Authid{tok.ID}}
	if err := c.Access.Grant(ctx, grant); err != nil {
		log.Fatal(err)
	}
	fmt.Println("token entry only:", canAudit())

	grant = pve.ACLChange{Path: "/vms/100", Roles: []string{"PVEAuditor"}, Users: []auth.Userid{user}}
	if err := c.Access.Grant(ctx, grant); err != nil {
		log.Fatal(err)
	}
	fmt.Println("token and user entries:", canAudit())
	// Output:
	// token entry only: false
	// token and user entries: true
}

func ExampleAccessService_Permissions() {
	srv, c := startMock()
	defer srv.Close()
	ctx := context.Background()

	user := auth.MustParseUserid("ops@pve")
	_ = c.Access.CreateUser(ctx, user, nil)
	_ = c.Access.Grant(ctx, pve.ACLChange{Path: "/storage", Roles: []string{"PVEDatastoreUser"}, Users: []auth.Userid{user},
		Propagate: pve.Ptr(false)})
	perms, err := c.Access.Permissions(ctx, &pve.PermissionsOptions{AuthID: user.Authid()})
	if err != nil {
		log.Fatal(err)
	}
	for path, privs := range perms {
		fmt.Println(path, privs) // [0]: not inherited below /storage
	}
	// Output: /storage Datastore.AllocateSpace[0],Datastore.Audit[0]
}

func ExampleClient_Get() {
	srv, c := startMock()
	defer srv.Close()

	var index []struct {
		Subdir string `json:"subdir"`
	}
	if err := c.Get(context.Background(), "/access", nil, &index); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(index) > 0)

	err := c.Get(context.Background(), pve.JoinPath("nodes", "pve1", "qemu"), nil, nil)
	fmt.Println(errors.Is(err, pve.ErrUnknownPath)) // the mock has no guests
	// Output:
	// true
	// true
}
