package pbs_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

func TestACLGrantListRevoke(t *testing.T) {
	srv, admin := adminSetup(t)
	ctx := ctxT(t)
	mkUser(t, admin, "alice@pbs")
	mkToken(t, admin, "alice@pbs!backup", pbs.TokenOptions{})
	grant(t, admin, "/datastore/store1", "alice@pbs", "DatastoreBackup", true)
	grant(t, admin, "/datastore/store1", "alice@pbs!backup", "DatastoreBackup", false)

	entries, digest, err := admin.Access.ListACL(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, digest, 64)
	assert.Equal(t, []pbs.ACLEntry{
		{Path: "/", AuthID: srv.AdminToken.ID, Role: "Admin", Propagate: true},
		{Path: "/datastore/store1", AuthID: auth.MustParseAuthid("alice@pbs"), Role: "DatastoreBackup", Propagate: true},
		{Path: "/datastore/store1", AuthID: auth.MustParseAuthid("alice@pbs!backup"), Role: "DatastoreBackup", Propagate: false},
	}, entries)

	exact, _, err := admin.Access.ListACL(ctx, &pbs.ListACLOptions{Path: "/", Exact: true})
	require.NoError(t, err)
	assert.Len(t, exact, 1)
	below, _, err := admin.Access.ListACL(ctx, &pbs.ListACLOptions{Path: "/datastore"})
	require.NoError(t, err)
	assert.Len(t, below, 2)
	none, _, err := admin.Access.ListACL(ctx, &pbs.ListACLOptions{Path: "/remote"})
	require.NoError(t, err)
	assert.Empty(t, none)

	// Granting the same entry again re-flags it.
	grant(t, admin, "/datastore/store1", "alice@pbs!backup", "DatastoreBackup", true)
	require.NoError(t, admin.Access.RevokeACL(ctx, pbs.ACLUpdate{Path: "/datastore/store1", Role: "DatastoreBackup",
		AuthID: auth.MustParseAuthid("alice@pbs")}))
	require.NoError(t, admin.Access.RevokeACL(ctx, pbs.ACLUpdate{Path: "/datastore/store1", Role: "DatastoreBackup",
		AuthID: auth.MustParseAuthid("alice@pbs")}), "revoking a missing entry is fine")
	entries, _, err = admin.Access.ListACL(ctx, &pbs.ListACLOptions{Path: "/datastore/store1", Exact: true})
	require.NoError(t, err)
	assert.Equal(t, []pbs.ACLEntry{
		{Path: "/datastore/store1", AuthID: auth.MustParseAuthid("alice@pbs!backup"), Role: "DatastoreBackup", Propagate: true},
	}, entries)
}

func TestACLDigestConflict(t *testing.T) {
	_, admin := adminSetup(t)
	ctx := ctxT(t)
	mkUser(t, admin, "bob@pbs")
	_, digest, err := admin.Access.ListACL(ctx, nil)
	require.NoError(t, err)
	grant(t, admin, "/system", "bob@pbs", "Audit", true)
	err = admin.Access.GrantACL(ctx, pbs.ACLUpdate{Path: "/remote", Role: "RemoteAudit",
		AuthID: auth.MustParseAuthid("bob@pbs"), Digest: digest})
	assert.ErrorIs(t, err, pbs.ErrConflict)
	_, digest, err = admin.Access.ListACL(ctx, nil)
	require.NoError(t, err)
	assert.NoError(t, admin.Access.GrantACL(ctx, pbs.ACLUpdate{Path: "/remote", Role: "RemoteAudit",
		AuthID: auth.MustParseAuthid("bob@pbs"), Digest: digest}))
}

func TestACLErrorsCarryPBSTexts(t *testing.T) {
	_, admin := adminSetup(t)
	ctx := ctxT(t)
	mkUser(t, admin, "carol@pbs")
	for _, tc := range []struct {
		u    pbs.ACLUpdate
		want string
	}{
		{pbs.ACLUpdate{Path: "/datastore/store1", Role: "Admin", AuthID: auth.MustParseAuthid("nobody@pbs")}, "no such user."},
		{pbs.ACLUpdate{Path: "/datastore/store1", Role: "Admin", AuthID: auth.MustParseAuthid("carol@pbs!none")}, "no such API token."},
		{pbs.ACLUpdate{Path: "/nonsense", Role: "Admin", AuthID: auth.MustParseAuthid("carol@pbs")}, "invalid acl path '/nonsense'."},
		{pbs.ACLUpdate{Path: "datastore/", Role: "Admin", AuthID: auth.MustParseAuthid("carol@pbs")},
			"parameter verification failed - 'path': value does not match the regex pattern"},
		{pbs.ACLUpdate{Path: "/", Role: "PVEAdmin", AuthID: auth.MustParseAuthid("carol@pbs")},
			"parameter verification failed - 'role': value 'PVEAdmin' is not defined in the enumeration."},
	} {
		err := admin.Access.GrantACL(ctx, tc.u)
		pe := apiError(t, err, tc.want)
		assert.Equal(t, 400, pe.Status)
		assert.Equal(t, tc.want, pe.Message)
	}
}

// root@pam ACL rows are accepted and not stored; its tokens' rows are.
func TestRootACLRowsAcceptedNotStored(t *testing.T) {
	_, admin := adminSetup(t)
	ctx := ctxT(t)
	grant(t, admin, "/datastore", "root@pam", "Audit", true)
	entries, _, err := admin.Access.ListACL(ctx, &pbs.ListACLOptions{Path: "/datastore"})
	require.NoError(t, err)
	assert.Empty(t, entries)
}

// PBS keeps NoAccess exclusive per path and subject (spec E12).
func TestACLNoAccessIsExclusive(t *testing.T) {
	_, admin := adminSetup(t)
	ctx := ctxT(t)
	mkUser(t, admin, "bob@pbs")
	roles := func() []string {
		entries, _, err := admin.Access.ListACL(ctx, &pbs.ListACLOptions{Path: "/datastore", Exact: true})
		require.NoError(t, err)
		var out []string
		for _, e := range entries {
			out = append(out, e.Role)
		}
		return out
	}
	grant(t, admin, "/datastore", "bob@pbs", "Admin", true)
	grant(t, admin, "/datastore", "bob@pbs", "Audit", true)
	assert.Equal(t, []string{"Admin", "Audit"}, roles())
	grant(t, admin, "/datastore", "bob@pbs", "NoAccess", true)
	assert.Equal(t, []string{"NoAccess"}, roles())
	grant(t, admin, "/datastore", "bob@pbs", "Admin", true)
	assert.Equal(t, []string{"Admin"}, roles())
}

// Without Permissions.Modify on /access/acl a user may only change the
// entries of its own tokens, and a token nothing.
func TestUnprivilegedACLUpdates(t *testing.T) {
	srv, admin := adminSetup(t)
	ctx := ctxT(t)
	dan := auth.MustParseUserid("dan@pbs")
	require.NoError(t, admin.Access.CreateUser(ctx, pbs.NewUser{ID: dan, Password: auth.NewSecret("danpass")}))
	mkUser(t, admin, "eve@pbs")
	danTok := mkToken(t, admin, "dan@pbs!t", pbs.TokenOptions{})
	mkToken(t, admin, "eve@pbs!t", pbs.TokenOptions{})
	creds, err := auth.NewTicketCredentials(dan, auth.NewSecret("danpass"))
	require.NoError(t, err)
	c := connect(t, srv, creds)

	require.NoError(t, c.Access.GrantACL(ctx, pbs.ACLUpdate{Path: "/datastore/store1", Role: "Admin", AuthID: danTok.ID}),
		"any role for its own token: the owner caps it anyway")
	for _, tc := range []struct {
		c    *pbs.Client
		id   string
		want string
	}{
		{c, "dan@pbs", "Unprivileged users can only set ACL items for API tokens."},
		{c, "eve@pbs!t", "Unprivileged users can only set ACL items for their own API tokens."},
		{connect(t, srv, danTok), "dan@pbs!t", "Unprivileged API tokens can't set ACL items."},
	} {
		err := tc.c.Access.GrantACL(ctx, pbs.ACLUpdate{Path: "/datastore/store1", Role: "Admin", AuthID: auth.MustParseAuthid(tc.id)})
		pe := apiError(t, err, tc.id)
		assert.Equal(t, 400, pe.Status)
		assert.Equal(t, tc.want, pe.Message)
	}

	// The user sees only its own tokens' entries, its token nothing.
	entries, _, err := c.Access.ListACL(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, []pbs.ACLEntry{{Path: "/datastore/store1", AuthID: danTok.ID, Role: "Admin", Propagate: true}}, entries)
	entries, _, err = connect(t, srv, danTok).Access.ListACL(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestDeletingRemovesACLRowsUnlessLegacy(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		var opts []pbstest.Option
		if legacy {
			opts = append(opts, pbstest.WithLegacyDeletion())
		}
		srv, admin := adminSetup(t, opts...)
		ctx := ctxT(t)
		fay := mkUser(t, admin, "fay@pbs")
		tok := mkToken(t, admin, "fay@pbs!t", pbs.TokenOptions{})
		grant(t, admin, "/datastore", "fay@pbs", "DatastoreAudit", true)
		grant(t, admin, "/datastore", "fay@pbs!t", "DatastoreAudit", true)

		require.NoError(t, admin.Access.DeleteUser(ctx, fay, ""))
		_, err := connect(t, srv, tok).Version(ctx)
		assert.ErrorIs(t, err, pbs.ErrUnauthorized, "a deleted user's tokens fail")
		entries, _, err := admin.Access.ListACL(ctx, &pbs.ListACLOptions{Path: "/datastore"})
		require.NoError(t, err)
		if !legacy {
			assert.Empty(t, entries, "clean deletion")
			continue
		}
		assert.Len(t, entries, 2, "PBS 3.2.4 leaves the rows")
		mkUser(t, admin, "fay@pbs")
		_, err = connect(t, srv, tok).Version(ctx)
		assert.NoError(t, err, "PBS 3.2.4: re-creating the user revives its old tokens")
	}
}

// Listing group rows: PBS stores them (from its configuration) but the
// API refuses to create them.
func TestACLGroupsRefused(t *testing.T) {
	srv, admin := adminSetup(t)
	req, err := newRawRequest(srv, "PUT", "/api2/json/access/acl", "path=/&role=Admin&group=admins")
	require.NoError(t, err)
	status, body := doRaw(t, srv, req)
	assert.Equal(t, 400, status)
	assert.Equal(t, "parameter 'group' - groups are currently not supported.", body)
	_ = admin
}

func TestACLEntryConvertsForOfflineEvaluation(t *testing.T) {
	tok := auth.MustParseAuthid("u@pbs!t")
	assert.Equal(t, acl.Entry{Path: "/", Type: acl.Token, Subject: "u@pbs!t", Role: "Admin", Propagate: true},
		pbs.ACLEntry{Path: "/", AuthID: tok, Role: "Admin", Propagate: true}.Entry())
	assert.Equal(t, acl.Entry{Path: "/", Type: acl.Group, Subject: "ops", Role: "Audit"},
		pbs.ACLEntry{Path: "/", Group: "ops", Role: "Audit"}.Entry())
}
