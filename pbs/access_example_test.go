package pbs_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

// exampleClient starts a mock server and returns an admin client for it.
func exampleClient() (*pbstest.Server, *pbs.Client, error) {
	srv, err := pbstest.Start()
	if err != nil {
		return nil, nil, err
	}
	c, err := pbs.NewClient(srv.URL, pbs.WithCredentials(srv.AdminToken), pbs.WithFingerprint(srv.Fingerprint))
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	return srv, c, nil
}

// A dedicated user and API token for backups, with the least privilege
// on the narrowest path: DatastoreBackup on /datastore/store1, granted to
// the token and to its user, because a PBS token only ever holds what
// both hold.
func ExampleAccessService_CreateToken() {
	srv, admin, err := exampleClient()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	ctx := context.Background()

	user := auth.MustParseUserid("backup@pbs")
	if err := admin.Access.CreateUser(ctx, pbs.NewUser{ID: user, Comment: "backup jobs"}); err != nil {
		fmt.Println(err)
		return
	}
	tok, err := admin.Access.CreateToken(ctx, auth.MustParseAuthid("backup@pbs!nightly"), pbs.TokenOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("token:", tok.ID, "secret of", len(tok.Secret.Reveal()), "characters, shown once")

	for _, id := range []auth.Authid{tok.ID, user.Authid()} {
		err := admin.Access.GrantACL(ctx, pbs.ACLUpdate{Path: "/datastore/store1", Role: "DatastoreBackup", AuthID: id})
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	c, err := pbs.NewClient(srv.URL, pbs.WithCredentials(tok.Credentials()), pbs.WithFingerprint(srv.Fingerprint))
	if err != nil {
		fmt.Println(err)
		return
	}
	perms, err := c.Access.GetPermissions(ctx, &pbs.PermissionsOptions{Path: "/datastore/store1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("/datastore/store1:", perms["/datastore/store1"])
	// Output:
	// token: backup@pbs!nightly secret of 36 characters, shown once
	// /datastore/store1: Datastore.Backup[1]
}

// Optimistic concurrency: a write with the digest of an earlier read
// fails if the configuration changed in between.
func ExampleAccessService_GrantACL() {
	srv, admin, err := exampleClient()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	ctx := context.Background()

	_ = admin.Access.CreateUser(ctx, pbs.NewUser{ID: auth.MustParseUserid("auditor@pbs")})
	entries, digest, err := admin.Access.ListACL(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(entries), "entry:", entries[0].Path, entries[0].AuthID, entries[0].Role)

	grant := pbs.ACLUpdate{Path: "/", Role: "Audit", AuthID: auth.MustParseAuthid("auditor@pbs"), Digest: digest}
	fmt.Println("first:", admin.Access.GrantACL(ctx, grant))
	err = admin.Access.GrantACL(ctx, grant)
	fmt.Println("second with the old digest, conflict:", errors.Is(err, pbs.ErrConflict))
	// Output:
	// 1 entry: / root@pam!admin Admin
	// first: <nil>
	// second with the old digest, conflict: true
}

func ExampleClient_Version() {
	srv, err := pbstest.Start(pbstest.WithVersion("3.2.4", "1", "0123abc"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	c, err := pbs.NewClient(srv.URL, pbs.WithCredentials(srv.AdminToken), pbs.WithFingerprint(srv.Fingerprint))
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := c.Version(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v)
	// Output: 3.2.4-1
}

// proxmox-backup-client's environment: PBS_REPOSITORY, PBS_PASSWORD and
// PBS_FINGERPRINT.
func ExampleNewClientFromEnvironment() {
	srv, err := pbstest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	ctx := context.Background()

	env, err := auth.LoadPBSEnvironment(ctx, auth.MapEnv(map[string]string{
		"PBS_REPOSITORY":  "root@pam!admin@" + srv.URL[len("https://"):] + ":store1",
		"PBS_PASSWORD":    srv.AdminToken.Secret.Reveal(),
		"PBS_FINGERPRINT": srv.Fingerprint.String(),
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := pbs.NewClientFromEnvironment(env)
	if err != nil {
		fmt.Println(err)
		return
	}
	users, _, err := c.Access.ListUsers(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.AuthID(), c.Target().Datastore, users[0].ID)
	// Output: root@pam!admin store1 root@pam
}
