package pbs_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pbs"
)

func TestUsersCreateGetListUpdateDelete(t *testing.T) {
	_, admin := adminSetup(t)
	ctx := ctxT(t)
	alice := auth.MustParseUserid("alice@pbs")
	exp := time.Unix(2000000000, 0)
	require.NoError(t, admin.Access.CreateUser(ctx, pbs.NewUser{
		ID: alice, Comment: "ops", Expire: exp, Firstname: "Alice", Lastname: "Liddell",
		Email: "alice@example.com", Password: auth.NewSecret("wonderland"),
	}))

	u, digest, err := admin.Access.GetUser(ctx, alice)
	require.NoError(t, err)
	assert.Len(t, digest, 64)
	assert.Equal(t, pbs.User{ID: alice, Comment: "ops", Enabled: true, Expire: exp,
		Firstname: "Alice", Lastname: "Liddell", Email: "alice@example.com"}, *u)

	users, listDigest, err := admin.Access.ListUsers(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, digest, listDigest, "user and list read the same user.cfg")
	require.Len(t, users, 2)
	assert.Equal(t, "alice@pbs", users[0].ID.String())
	assert.Equal(t, "root@pam", users[1].ID.String())
	assert.Equal(t, "Superuser", users[1].Comment)

	// An update sends only what is set: the names, email and expiry stay.
	require.NoError(t, admin.Access.UpdateUser(ctx, alice, pbs.UserUpdate{
		Comment: ptr("  on call  "), Enable: ptr(false), Digest: digest,
	}))
	u, digest2, err := admin.Access.GetUser(ctx, alice)
	require.NoError(t, err)
	assert.NotEqual(t, digest, digest2, "every change alters the digest")
	assert.Equal(t, "on call", u.Comment, "PBS trims comments")
	assert.False(t, u.Enabled)
	assert.Equal(t, exp, u.Expire)
	assert.Equal(t, "Alice", u.Firstname)
	assert.Equal(t, "alice@example.com", u.Email)

	require.NoError(t, admin.Access.UpdateUser(ctx, alice, pbs.UserUpdate{
		Enable: ptr(true), Expire: ptr(time.Time{}), Delete: []pbs.UserProperty{pbs.UserEmail, pbs.UserFirstname},
	}))
	u, _, err = admin.Access.GetUser(ctx, alice)
	require.NoError(t, err)
	assert.Equal(t, pbs.User{ID: alice, Comment: "on call", Enabled: true, Lastname: "Liddell"}, *u)

	require.NoError(t, admin.Access.DeleteUser(ctx, alice, ""))
	_, _, err = admin.Access.GetUser(ctx, alice)
	assert.ErrorIs(t, err, pbs.ErrNotFound)
	err = admin.Access.DeleteUser(ctx, alice, "")
	assert.ErrorIs(t, err, pbs.ErrNotFound)
	pe := apiError(t, err)
	assert.Equal(t, "user 'alice@pbs' does not exist.", pe.Message)
}

func TestUserDigestConflict(t *testing.T) {
	_, admin := adminSetup(t)
	ctx := ctxT(t)
	bob := mkUser(t, admin, "bob@pbs")
	_, digest, err := admin.Access.GetUser(ctx, bob)
	require.NoError(t, err)
	mkUser(t, admin, "carol@pbs") // someone else changes user.cfg

	err = admin.Access.UpdateUser(ctx, bob, pbs.UserUpdate{Comment: ptr("x"), Digest: digest})
	assert.ErrorIs(t, err, pbs.ErrConflict)
	err = admin.Access.DeleteUser(ctx, bob, digest)
	assert.ErrorIs(t, err, pbs.ErrConflict)
	_, err = admin.Access.CreateToken(ctx, auth.MustParseAuthid("bob@pbs!t"), pbs.TokenOptions{Digest: digest})
	assert.ErrorIs(t, err, pbs.ErrConflict)

	_, fresh, err := admin.Access.GetUser(ctx, bob)
	require.NoError(t, err)
	assert.NoError(t, admin.Access.UpdateUser(ctx, bob, pbs.UserUpdate{Comment: ptr("x"), Digest: fresh}))
}

func TestCreateUserErrors(t *testing.T) {
	_, admin := adminSetup(t)
	ctx := ctxT(t)
	mkUser(t, admin, "dave@pbs")

	err := admin.Access.CreateUser(ctx, pbs.NewUser{ID: auth.MustParseUserid("dave@pbs")})
	assert.ErrorIs(t, err, pbs.ErrExists)

	err = admin.Access.CreateUser(ctx, pbs.NewUser{ID: auth.MustParseUserid("erin@ldap1")})
	pe := apiError(t, err)
	assert.Equal(t, "unknown realm 'ldap1'", pe.Message)

	err = admin.Access.CreateUser(ctx, pbs.NewUser{ID: auth.MustParseUserid("frank@pbs"), Firstname: "F"})
	pe = apiError(t, err)
	assert.Equal(t, 400, pe.Status)
	assert.Equal(t, map[string]string{"firstname": "value must be at least 2 characters long"}, pe.Errors)

	err = admin.Access.CreateUser(ctx, pbs.NewUser{})
	assert.ErrorIs(t, err, pbs.ErrInvalidRequest, "refused before sending")
}

func TestListUsersIncludeTokensAndVisibility(t *testing.T) {
	srv, admin := adminSetup(t)
	ctx := ctxT(t)
	gina := mkUser(t, admin, "gina@pbs")
	mkUser(t, admin, "hank@pbs")
	tok := mkToken(t, admin, "gina@pbs!backup", pbs.TokenOptions{Comment: "nightly"})

	users, _, err := admin.Access.ListUsers(ctx, &pbs.ListUsersOptions{IncludeTokens: true})
	require.NoError(t, err)
	require.Len(t, users, 3)
	assert.Equal(t, gina, users[0].ID)
	require.Len(t, users[0].Tokens, 1)
	assert.Equal(t, pbs.Token{ID: tok.ID, Comment: "nightly", Enabled: true}, users[0].Tokens[0])
	assert.Empty(t, users[1].Tokens)
	root := users[2]
	require.Len(t, root.Tokens, 1, "the bootstrap token")
	assert.Equal(t, srv.AdminToken.ID, root.Tokens[0].ID)

	// Without Sys.Audit on /access/users a token sees only its owner.
	grant(t, admin, "/datastore", "gina@pbs", "DatastoreAudit", true)
	grant(t, admin, "/datastore", "gina@pbs!backup", "DatastoreAudit", true)
	c := connect(t, srv, tok)
	users, _, err = c.Access.ListUsers(ctx, &pbs.ListUsersOptions{IncludeTokens: true})
	require.NoError(t, err)
	require.Len(t, users, 1)
	assert.Equal(t, gina, users[0].ID)
	require.Len(t, users[0].Tokens, 1)
}
