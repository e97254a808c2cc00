package main

import (
	"context"
	"fmt"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/pve"
	"github.com/proxkit/proxkit/pve/pvetest"
)

// pveAccessStory tells the same story on the PVE mock: PVEAuditor on
// /vms/100. The mock serves the access-control API only, so "may the
// token audit VM 100" is asked the way PVE answers it for any endpoint:
// the token's effective privileges on /vms/100.
func pveAccessStory(ctx context.Context, n *narrator, srv *pvetest.Server) error {
	admin, err := pve.NewClient(srv.URL, pve.WithCredentials(srv.AdminToken), pve.WithFingerprint(srv.Fingerprint))
	if err != nil {
		return err
	}
	const path = "/vms/100"
	user := auth.MustParseUserid("monitor@pve")
	n.section("PVE mock at %s; acting as %s", srv.URL, srv.AdminToken.ID)

	n.stepf("Create the dedicated user %s and its API token %s!ci (privilege separated, PVE's default)", user, user)
	if err := admin.Access.CreateUser(ctx, user, &pve.UserOptions{Comment: "monitoring only"}); err != nil {
		return err
	}
	tok, err := admin.Access.CreateToken(ctx, auth.MustParseAuthid("monitor@pve!ci"), &pve.TokenOptions{Comment: "quickstart"})
	if err != nil {
		return err
	}
	n.sayf("-> token %s, privsep %v, secret %s", tok.ID, tok.Privsep, tok.Secret)
	client, err := pve.NewClient(srv.URL, pve.WithCredentials(tok.Credentials()), pve.WithFingerprint(srv.Fingerprint))
	if err != nil {
		return err
	}
	// PVE checks VM.Audit on /vms/100 before it shows VM 100's status;
	// the token asks the server what it holds there.
	mayAudit := func() (acl.PrivSet, error) {
		perms, err := client.Access.Permissions(ctx, &pve.PermissionsOptions{Path: path})
		if err != nil {
			return nil, err
		}
		return perms[path], nil
	}
	report := func(want bool) error {
		privs, err := mayAudit()
		if err != nil {
			return err
		}
		has := privs.Has("VM.Audit")
		if has != want {
			return fmt.Errorf("VM.Audit on %s: got %v, want %v", path, has, want)
		}
		if has {
			n.sayf("-> VM.Audit on %s: yes; GET /nodes/NODE/qemu/100/status/current would succeed", path)
		} else {
			n.sayf("-> VM.Audit on %s: no; a real PVE answers VM 100's status with", path)
			n.sayf("   403 Permission check failed (%s, VM.Audit)", path)
		}
		return nil
	}

	n.stepf("May the token audit VM 100? (GET /access/permissions?path=%s, as the token)", path)
	if err := report(false); err != nil {
		return err
	}

	n.stepf("Grant PVEAuditor on %s to the token alone", path)
	if err := admin.Access.Grant(ctx, pve.ACLChange{Path: path, Roles: []string{"PVEAuditor"}, Tokens: []auth.Authid{tok.ID}}); err != nil {
		return err
	}
	if err := report(false); err != nil {
		return err
	}
	n.sayf("Same rule as on PBS: the separated token is capped by its user, who has nothing there.")

	n.stepf("Grant PVEAuditor on %s to the user %s too", path, user)
	if err := admin.Access.Grant(ctx, pve.ACLChange{Path: path, Roles: []string{"PVEAuditor"}, Users: []auth.Userid{user}}); err != nil {
		return err
	}
	if err := report(true); err != nil {
		return err
	}

	n.stepf("Effective permissions of %s on %s", tok.ID, path)
	server, err := mayAudit()
	if err != nil {
		return err
	}
	n.sayf("server (GET /access/permissions):  %s", privNames(server))
	offline, err := offlinePVE(ctx, admin, tok.ID, path)
	if err != nil {
		return err
	}
	agree := "agrees"
	if !offline.Equal(server) {
		agree = "DISAGREES"
	}
	n.sayf("offline (auth/acl evaluator):      %s (%s)", privNames(offline), agree)

	n.stepf("Revoke the token (delete it); the token asks for the server version:")
	if err := admin.Access.DeleteToken(ctx, tok.ID); err != nil {
		return err
	}
	_, err = client.Version(ctx)
	return expectStatus(n, err, pve.ErrUnauthorized)
}

// offlinePVE evaluates the server's ACL, with the privilege separation of
// the tokens and the members of the groups it names, with package auth/acl.
func offlinePVE(ctx context.Context, admin *pve.Client, id auth.Authid, path string) (acl.PrivSet, error) {
	entries, err := admin.Access.ListACL(ctx)
	if err != nil {
		return nil, err
	}
	policy := acl.NewPolicy(auth.PVE)
	register := func(tid auth.Authid) error {
		if _, known := policy.Token(tid); known {
			return nil
		}
		tok, err := admin.Access.GetToken(ctx, tid)
		if err != nil {
			return err
		}
		return policy.SetToken(tid, tok.Privsep)
	}
	if id.IsToken() {
		if err := register(id); err != nil {
			return nil, err
		}
	}
	for _, e := range entries {
		switch e.Type {
		case acl.Token:
			tid, err := auth.ParseAuthid(e.Subject)
			if err != nil {
				return nil, err
			}
			if err := register(tid); err != nil {
				return nil, err
			}
		case acl.Group:
			g, err := admin.Access.GetGroup(ctx, e.Subject)
			if err != nil {
				return nil, err
			}
			if err := policy.SetGroupMembers(g.ID, g.Members); err != nil {
				return nil, err
			}
		}
		if err := policy.Grant(e); err != nil {
			return nil, err
		}
	}
	return policy.Privileges(id, path), nil
}
