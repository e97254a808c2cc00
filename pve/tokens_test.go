package pve_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pve"
)

func TestTokenLifecycle(t *testing.T) {
	e := newEnv(t)
	user := e.mkUser("backup@pve", nil)
	id := aid("backup@pve!nightly")
	expire := epoch.Add(48 * time.Hour)

	created, err := e.admin.Access.CreateToken(ctx(t), id, &pve.TokenOptions{Comment: "nightly", Expire: expire})
	require.NoError(t, err)
	assert.Equal(t, id, created.ID)
	assert.True(t, created.Privsep, "privilege separation is the default")
	assert.Equal(t, expire, created.Expire)
	assert.Equal(t, "nightly", created.Comment)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, created.Secret.Reveal(),
		"secrets are UUIDs like PVE's")
	assert.NotContains(t, created.Token.Comment+created.ID.String(), created.Secret.Reveal())
	assert.Equal(t, auth.Token{ID: id, Secret: created.Secret}, created.Credentials())

	got, err := e.admin.Access.GetToken(ctx(t), id)
	require.NoError(t, err)
	assert.Equal(t, created.Token, *got, "a read shows what create returned, without the secret")

	list, err := e.admin.Access.ListTokens(ctx(t), user)
	require.NoError(t, err)
	assert.Equal(t, []pve.Token{created.Token}, list)

	// The token authenticates.
	v, err := e.as(created.Credentials()).Version(ctx(t))
	require.NoError(t, err)
	assert.NotEmpty(t, v.Version)

	e.grant(pve.ACLChange{Path: "/vms", Roles: []string{"PVEAuditor"}, Tokens: []auth.Authid{id}})
	require.NoError(t, e.admin.Access.DeleteToken(ctx(t), id))
	assert.Empty(t, e.rowsOf(), "a deleted token's ACL entries vanish")
	_, err = e.as(created.Credentials()).Version(ctx(t))
	assert.ErrorIs(t, err, pve.ErrUnauthorized, "a deleted token's secret stops working")
	_, err = e.admin.Access.GetToken(ctx(t), id)
	assert.ErrorIs(t, err, pve.ErrNotFound)
	list, err = e.admin.Access.ListTokens(ctx(t), user)
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestTokenCreateWithoutExpire(t *testing.T) {
	e := newEnv(t)
	e.mkUser("a@pve", nil)
	tok := e.mkToken("a@pve!t1", nil)
	assert.True(t, tok.Expire.IsZero(), "no expiry: the zero time")
	assert.True(t, tok.Privsep)
	tok2 := e.mkToken("a@pve!t2", &pve.TokenOptions{Privsep: pve.Ptr(false)})
	assert.False(t, tok2.Privsep)
}

func TestTokenCreateDuplicate(t *testing.T) {
	e := newEnv(t)
	e.mkUser("a@pve", nil)
	e.mkToken("a@pve!t1", nil)
	_, err := e.admin.Access.CreateToken(ctx(t), aid("a@pve!t1"), nil)
	pe := apiError(t, err)
	assert.Equal(t, http.StatusBadRequest, pe.Status)
	assert.Equal(t, map[string]string{"tokenid": "Token already exists."}, pe.Errors)
	assert.ErrorIs(t, err, pve.ErrBadRequest)
}

// Pitfall: an update sends only the fields the caller set, so changing
// the comment never resets privilege separation (a known bug in another Go
// SDK sent privsep=0 with every update).
func TestTokenUpdateSendsOnlySetFields(t *testing.T) {
	e := newEnv(t)
	e.mkUser("a@pve", nil)
	id := aid("a@pve!ci")
	expire := epoch.Add(time.Hour)
	e.mkToken(id.String(), &pve.TokenOptions{Comment: "first", Expire: expire})

	got, err := e.admin.Access.UpdateToken(ctx(t), id, pve.TokenUpdate{Comment: pve.Ptr("second")})
	require.NoError(t, err)
	assert.Equal(t, pve.Token{ID: id, Privsep: true, Expire: expire, Comment: "second"}, *got)

	got, err = e.admin.Access.UpdateToken(ctx(t), id, pve.TokenUpdate{Privsep: pve.Ptr(false)})
	require.NoError(t, err)
	assert.Equal(t, pve.Token{ID: id, Privsep: false, Expire: expire, Comment: "second"}, *got)

	got, err = e.admin.Access.UpdateToken(ctx(t), id, pve.TokenUpdate{Expire: pve.Ptr(time.Time{})})
	require.NoError(t, err)
	assert.True(t, got.Expire.IsZero(), "the zero time removes the expiry")
	assert.False(t, got.Privsep)

	got, err = e.admin.Access.UpdateToken(ctx(t), id, pve.TokenUpdate{Comment: pve.Ptr("")})
	require.NoError(t, err)
	assert.Empty(t, got.Comment, `"" removes the comment`)

	_, err = e.admin.Access.UpdateToken(ctx(t), id, pve.TokenUpdate{Comment: pve.Ptr("again")})
	require.NoError(t, err)
	got, err = e.admin.Access.UpdateToken(ctx(t), id, pve.TokenUpdate{Delete: []string{"comment"}})
	require.NoError(t, err)
	assert.Empty(t, got.Comment, "delete=comment removes it")

	// PVE raises the unknown-key error inside its config lock, which turns
	// it into a 500 whose text still names the parameter.
	_, err = e.admin.Access.UpdateToken(ctx(t), id, pve.TokenUpdate{Delete: []string{"expire"}})
	pe := apiError(t, err)
	assert.Equal(t, http.StatusInternalServerError, pe.Status)
	assert.Contains(t, pe.Message, "delete: unknown option 'expire'")
}

func TestTokenRegenerate(t *testing.T) {
	e := newEnv(t)
	e.mkUser("a@pve", nil)
	e.grant(pve.ACLChange{Path: "/vms", Roles: []string{"PVEAuditor"}, Users: []auth.Userid{uid("a@pve")}})
	old := e.mkToken("a@pve!ci", &pve.TokenOptions{Comment: "keep"})
	e.grant(pve.ACLChange{Path: "/vms", Roles: []string{"PVEAuditor"}, Tokens: []auth.Authid{old.ID}})

	fresh, err := e.admin.Access.RegenerateToken(ctx(t), old.ID)
	require.NoError(t, err)
	assert.Equal(t, old.Token, fresh.Token, "settings are kept")
	assert.False(t, fresh.Secret.Equal(old.Secret), "a new secret")

	_, err = e.as(old.Credentials()).Version(ctx(t))
	assert.ErrorIs(t, err, pve.ErrUnauthorized, "the old secret stops working at once")
	perms, err := e.as(fresh.Credentials()).Access.Permissions(ctx(t), &pve.PermissionsOptions{Path: "/vms/100"})
	require.NoError(t, err)
	assert.True(t, perms["/vms/100"].Has("VM.Audit"), "the token keeps its ACL entries")
}

// Pitfall: on PVE the path's {tokenid} is the token's name; the client
// takes the full id and sends only the name, so a full id can never end up
// in the path.
func TestTokenIDIsTheNameOnPVE(t *testing.T) {
	e := newEnv(t)
	e.mkUser("a@pve", nil)
	e.mkToken("a@pve!ci", nil)

	var info map[string]any
	require.NoError(t, e.admin.Get(ctx(t), pve.JoinPath("access", "users", "a@pve", "token", "ci"), nil, &info))
	assert.Contains(t, info, "privsep")

	err := e.admin.Get(ctx(t), pve.JoinPath("access", "users", "a@pve", "token", "a@pve!ci"), nil, &info)
	pe := apiError(t, err, "the full id is not a token name")
	assert.Equal(t, http.StatusBadRequest, pe.Status)
	assert.Equal(t, "value does not match the regex pattern", pe.Errors["tokenid"])

	var rows []map[string]any
	require.NoError(t, e.admin.Get(ctx(t), "/access/users/a@pve/token", nil, &rows))
	require.Len(t, rows, 1)
	assert.Equal(t, "ci", rows[0]["tokenid"], "lists name the token by its name")

	_, err = e.admin.Access.GetToken(ctx(t), aid("a@pve"))
	assert.ErrorIs(t, err, pve.ErrInvalidRequest, "a user id is refused before anything is sent")
	_, err = e.admin.Access.CreateToken(ctx(t), auth.Authid{}, nil)
	assert.ErrorIs(t, err, pve.ErrInvalidRequest)
}

// Pitfall (spec 1.3): PVE token names start with a letter and have at
// least two characters; "1st" and "t" are PBS-only names.
func TestTokenNameRules(t *testing.T) {
	e := newEnv(t)
	e.mkUser("a@pve", nil)
	for _, name := range []string{"1st", "t", "_x"} {
		err := e.admin.Post(ctx(t), pve.JoinPath("access", "users", "a@pve", "token", name), nil, nil)
		pe := apiError(t, err, name)
		assert.Equal(t, http.StatusBadRequest, pe.Status, name)
		assert.Contains(t, pe.Errors, "tokenid", name)
	}
}

// Pitfall: expire == now is still valid on PVE; one second later the
// token fails with 401. The user's expiry and enable flag count for its
// tokens on every request.
func TestTokenExpiryAndUserState(t *testing.T) {
	e := newEnv(t)
	user := e.mkUser("a@pve", nil)
	tok := e.mkToken("a@pve!ci", &pve.TokenOptions{Expire: epoch.Add(time.Minute)})
	c := e.as(tok.Credentials())

	e.clock.Set(epoch.Add(time.Minute))
	_, err := c.Version(ctx(t))
	require.NoError(t, err, "expire == now is valid on PVE")

	e.clock.Set(epoch.Add(time.Minute + time.Second))
	_, err = c.Version(ctx(t))
	pe := apiError(t, err)
	assert.Equal(t, http.StatusUnauthorized, pe.Status)
	assert.Equal(t, "Authentication failed!", pe.Message)
	assert.NotEmpty(t, pe.Hint)

	// Lift the token's expiry; now the user's state decides.
	_, err = e.admin.Access.UpdateToken(ctx(t), tok.ID, pve.TokenUpdate{Expire: pve.Ptr(time.Time{})})
	require.NoError(t, err)
	_, err = c.Version(ctx(t))
	require.NoError(t, err)

	require.NoError(t, e.admin.Access.UpdateUser(ctx(t), user, pve.UserUpdate{Enable: pve.Ptr(false)}))
	_, err = c.Version(ctx(t))
	assert.ErrorIs(t, err, pve.ErrUnauthorized, "a disabled user's tokens fail")

	require.NoError(t, e.admin.Access.UpdateUser(ctx(t), user, pve.UserUpdate{
		Enable: pve.Ptr(true), Expire: pve.Ptr(e.clock.Now().Add(-time.Second)),
	}))
	_, err = c.Version(ctx(t))
	assert.ErrorIs(t, err, pve.ErrUnauthorized, "an expired user's tokens fail")

	require.NoError(t, e.admin.Access.UpdateUser(ctx(t), user, pve.UserUpdate{Expire: pve.Ptr(e.clock.Now())}))
	_, err = c.Version(ctx(t))
	assert.NoError(t, err, "a user expiring this second is still valid")

	// Disabling a token the PVE way: an expiry in the past.
	_, err = e.admin.Access.UpdateToken(ctx(t), tok.ID, pve.TokenUpdate{Expire: pve.Ptr(time.Unix(1, 0))})
	require.NoError(t, err)
	_, err = c.Version(ctx(t))
	assert.ErrorIs(t, err, pve.ErrUnauthorized)
}

// Who may manage tokens: the user itself (with a ticket, never a token),
// or User.Modify on /access/groups or on one of the user's groups.
func TestTokenPermissions(t *testing.T) {
	e := newEnv(t, withPasswords()...)
	e.mkUser("alice@pve", &pve.UserOptions{Password: auth.NewSecret("alice-password")})
	alice := e.login("alice@pve", "alice-password")

	own, err := alice.Access.CreateToken(ctx(t), aid("alice@pve!mine"), nil)
	require.NoError(t, err, "a user manages its own tokens")
	_, err = alice.Access.ListTokens(ctx(t), uid("alice@pve"))
	require.NoError(t, err)

	// A token is never "the user": it cannot manage its siblings.
	_, err = e.as(own.Credentials()).Access.CreateToken(ctx(t), aid("alice@pve!other"), nil)
	pe := apiError(t, err)
	assert.Equal(t, http.StatusForbidden, pe.Status)
	assert.Equal(t, "Permission check failed", pe.Message)

	e.mkUser("bob@pve", nil)
	_, err = alice.Access.CreateToken(ctx(t), aid("bob@pve!bk"), nil)
	assert.ErrorIs(t, err, pve.ErrForbidden, "other users' tokens need User.Modify")

	// User.Modify on a group of bob's is enough.
	require.NoError(t, e.admin.Access.CreateGroup(ctx(t), "team", ""))
	require.NoError(t, e.admin.Access.UpdateUser(ctx(t), uid("bob@pve"), pve.UserUpdate{Groups: pve.Ptr([]string{"team"})}))
	e.grant(pve.ACLChange{Path: "/access/groups/team", Roles: []string{"PVEUserAdmin"}, Users: []auth.Userid{uid("alice@pve")}})
	_, err = alice.Access.CreateToken(ctx(t), aid("bob@pve!bk"), nil)
	assert.NoError(t, err)

	// Upstream quirk: for a caller other than root@pam, a missing user
	// fails the permission check (403) rather than the lookup.
	_, err = e.admin.Access.ListTokens(ctx(t), uid("ghost@pve"))
	pe = apiError(t, err)
	assert.Equal(t, http.StatusForbidden, pe.Status)
	// The user exists, the token does not: PVE's 500 "no such token".
	_, err = e.admin.Access.GetToken(ctx(t), aid("bob@pve!nope"))
	pe = apiError(t, err)
	assert.Equal(t, http.StatusInternalServerError, pe.Status)
	assert.Equal(t, "no such token 'nope' for user 'bob@pve'", pe.Message)
	assert.True(t, errors.Is(err, pve.ErrNotFound))
}
