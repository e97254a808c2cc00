package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

// pbsAccessStory tells issue 2's story on the PBS mock: a dedicated user
// and a separated token, least privilege granted step by step, effective
// permissions, a pbs-config.json, and revocation.
func pbsAccessStory(ctx context.Context, n *narrator, srv *pbstest.Server, dir string) error {
	admin, err := pbs.NewClient(srv.URL, pbs.WithCredentials(srv.AdminToken), pbs.WithFingerprint(srv.Fingerprint))
	if err != nil {
		return err
	}
	store := srv.Datastore
	path := "/datastore/" + store
	user := auth.MustParseUserid("backup@pbs")
	n.section("PBS mock at %s, datastore %s; acting as %s", srv.URL, store, srv.AdminToken.ID)

	n.stepf("Create the dedicated user %s and its API token %s!client", user, user)
	if err := admin.Access.CreateUser(ctx, pbs.NewUser{ID: user, Comment: "backups only"}); err != nil {
		return err
	}
	tok, err := admin.Access.CreateToken(ctx, auth.MustParseAuthid("backup@pbs!client"), pbs.TokenOptions{Comment: "quickstart"})
	if err != nil {
		return err
	}
	n.sayf("-> token %s, secret %s (the server shows it this once)", tok.ID, tok.Secret)

	client, err := pbs.NewClient(srv.URL, pbs.WithCredentials(tok.Credentials()), pbs.WithFingerprint(srv.Fingerprint))
	if err != nil {
		return err
	}
	listSnapshots := func() error {
		_, err := client.Datastore.ListSnapshots(ctx, store, datastore.Namespace{}, pbs.SnapshotFilter{})
		return err
	}

	n.stepf("The token lists the snapshots of %s (GET /admin/datastore/%s/snapshots)", store, store)
	if err := expectStatus(n, listSnapshots(), pbs.ErrForbidden); err != nil {
		return err
	}

	n.stepf("Grant the least role on the narrowest path, to the token alone: DatastoreBackup on %s", path)
	if err := admin.Access.GrantACL(ctx, pbs.ACLUpdate{Path: path, Role: "DatastoreBackup", AuthID: tok.ID}); err != nil {
		return err
	}
	n.sayf("The same request:")
	if err := expectStatus(n, listSnapshots(), pbs.ErrForbidden); err != nil {
		return err
	}
	n.sayf("Why: a privilege-separated token holds what its own ACL entries grant AND its user")
	n.sayf("holds on the same path. %s holds nothing on %s, so the token gets nothing:", user, path)
	n.sayf("the usual cause of \"token created, but backups fail\".")

	n.stepf("Grant DatastoreBackup on %s to the user %s too", path, user)
	if err := admin.Access.GrantACL(ctx, pbs.ACLUpdate{Path: path, Role: "DatastoreBackup", AuthID: user.Authid()}); err != nil {
		return err
	}
	if err := listSnapshots(); err != nil {
		return fmt.Errorf("the token should list snapshots now: %w", err)
	}
	n.sayf("The same request: -> ok")

	n.stepf("Effective permissions of %s on %s", tok.ID, path)
	perms, err := admin.Access.GetPermissions(ctx, &pbs.PermissionsOptions{AuthID: tok.ID, Path: path})
	if err != nil {
		return err
	}
	n.sayf("server (GET /access/permissions):  %s", privNames(perms[path]))
	offline, err := offlinePBS(ctx, admin, tok.ID, path)
	if err != nil {
		return err
	}
	agree := "agrees"
	if !offline.Equal(perms[path]) {
		agree = "DISAGREES"
	}
	n.sayf("offline (auth/acl evaluator):      %s (%s)", privNames(offline), agree)

	n.stepf("A pbs-config.json for the token, as hosting providers hand them out")
	cfgPath := filepath.Join(dir, "pbs-config.json")
	cfg, err := writeConfig(srv, tok, cfgPath)
	if err != nil {
		return err
	}
	n.sayf("written to %s (mode 0600; removed at exit); with the secret redacted:", cfgPath)
	n.sayf("%s", indentJSON(cfg))

	n.stepf("Revoke the token (delete it); the same request:")
	if err := admin.Access.DeleteToken(ctx, tok.ID, ""); err != nil {
		return err
	}
	return expectStatus(n, listSnapshots(), pbs.ErrUnauthorized)
}

// offlinePBS evaluates the server's ACL with package auth/acl.
func offlinePBS(ctx context.Context, admin *pbs.Client, id auth.Authid, path string) (acl.PrivSet, error) {
	entries, _, err := admin.Access.ListACL(ctx, nil)
	if err != nil {
		return nil, err
	}
	policy := acl.NewPolicy(auth.PBS)
	for _, e := range entries {
		if err := policy.Grant(e.Entry()); err != nil {
			return nil, err
		}
	}
	return policy.Privileges(id, path), nil
}

// expectStatus prints an error that the story expects, and fails when
// the error is not the expected kind.
func expectStatus(n *narrator, err, want error) error {
	if err == nil {
		return fmt.Errorf("expected %v, but the request succeeded", want)
	}
	if !errors.Is(err, want) {
		return fmt.Errorf("expected %v: %w", want, err)
	}
	n.refused(err)
	return nil
}

func privNames(s acl.PrivSet) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s.Names(), " ")
}
