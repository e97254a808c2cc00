package pbs_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

func TestTokenLifecycle(t *testing.T) {
	srv, admin := adminSetup(t)
	ctx := ctxT(t)
	mkUser(t, admin, "ivy@pbs")
	id := auth.MustParseAuthid("ivy@pbs!ci")
	exp := time.Unix(2100000000, 0)

	created, err := admin.Access.CreateToken(ctx, id, pbs.TokenOptions{Comment: "ci runner", Expire: exp})
	require.NoError(t, err)
	assert.Equal(t, id, created.ID)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, created.Secret.Reveal(),
		"secrets are random UUIDs as PBS generates them")
	assert.NotContains(t, created.String(), created.Secret.Reveal())

	tok, digest, err := admin.Access.GetToken(ctx, id)
	require.NoError(t, err)
	assert.Len(t, digest, 64)
	assert.Equal(t, pbs.Token{ID: id, Comment: "ci runner", Enabled: true, Expire: exp}, *tok)

	list, _, err := admin.Access.ListTokens(ctx, id.User())
	require.NoError(t, err)
	assert.Equal(t, []pbs.Token{*tok}, list)

	c := connect(t, srv, created.Credentials())
	_, err = c.Version(ctx)
	require.NoError(t, err, "the secret authenticates")

	require.NoError(t, admin.Access.DisableToken(ctx, id))
	_, err = c.Version(ctx)
	assert.ErrorIs(t, err, pbs.ErrUnauthorized, "enable is checked on every request")
	tok, _, err = admin.Access.GetToken(ctx, id)
	require.NoError(t, err)
	assert.False(t, tok.Enabled)

	require.NoError(t, admin.Access.EnableToken(ctx, id))
	_, err = c.Version(ctx)
	require.NoError(t, err)

	require.NoError(t, admin.Access.UpdateToken(ctx, id, pbs.TokenUpdate{Expire: ptr(time.Time{}), DeleteComment: true}))
	tok, _, err = admin.Access.GetToken(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, pbs.Token{ID: id, Enabled: true}, *tok)

	again, err := admin.Access.RegenerateToken(ctx, id, "")
	require.NoError(t, err)
	assert.NotEqual(t, created.Secret.Reveal(), again.Secret.Reveal())
	_, err = c.Version(ctx)
	assert.ErrorIs(t, err, pbs.ErrUnauthorized, "the old secret is gone")
	_, err = connect(t, srv, again.Credentials()).Version(ctx)
	require.NoError(t, err)

	require.NoError(t, admin.Access.DeleteToken(ctx, id, ""))
	_, err = connect(t, srv, again.Credentials()).Version(ctx)
	assert.ErrorIs(t, err, pbs.ErrUnauthorized)
	_, _, err = admin.Access.GetToken(ctx, id)
	assert.ErrorIs(t, err, pbs.ErrNotFound)
	err = admin.Access.DeleteToken(ctx, id, "")
	pe := apiError(t, err)
	assert.Equal(t, "token 'ci' of user 'ivy@pbs' does not exist.", pe.Message)
}

func TestCreateTokenTwiceAndBadIDs(t *testing.T) {
	_, admin := adminSetup(t)
	ctx := ctxT(t)
	mkUser(t, admin, "jo@pbs")
	mkToken(t, admin, "jo@pbs!a", pbs.TokenOptions{})

	_, err := admin.Access.CreateToken(ctx, auth.MustParseAuthid("jo@pbs!a"), pbs.TokenOptions{})
	assert.ErrorIs(t, err, pbs.ErrExists)
	pe := apiError(t, err)
	assert.Equal(t, "token 'a' for user 'jo@pbs' already exists.", pe.Message)

	_, err = admin.Access.CreateToken(ctx, auth.MustParseAuthid("jo@pbs"), pbs.TokenOptions{})
	assert.ErrorIs(t, err, pbs.ErrInvalidRequest, "a user id is not a token id")

	// PBS token names may be one character or start with a digit.
	mkToken(t, admin, "jo@pbs!1", pbs.TokenOptions{})
}

// The PBS answer names the token by its full id ("tokenid"), unlike PVE,
// whose "tokenid" is the name alone.
func TestTokenIDIsTheFullIDOnPBS(t *testing.T) {
	srv, admin := adminSetup(t)
	mkUser(t, admin, "kim@pbs")
	mkToken(t, admin, "kim@pbs!x", pbs.TokenOptions{})
	req, err := http.NewRequest("GET", srv.URL+"/api2/json/access/users/kim@pbs/token", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", srv.AdminToken.PBSHeader())
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Data []map[string]any `json:"data"`
	}
	require.NoError(t, decodeJSON(resp, &body))
	require.Len(t, body.Data, 1)
	assert.Equal(t, "kim@pbs!x", body.Data[0]["tokenid"])
	assert.Equal(t, "x", body.Data[0]["token-name"])
}

// PBS expires a token at its expire second (expire <= now), PVE only
// after it.
func TestTokenExpiringNowIsExpired(t *testing.T) {
	clock := mockcore.NewFakeClock(time.Unix(1800000000, 0))
	srv, admin := adminSetup(t, pbstest.WithClock(clock.Now))
	ctx := ctxT(t)
	mkUser(t, admin, "lou@pbs")
	tok := mkToken(t, admin, "lou@pbs!t", pbs.TokenOptions{Expire: clock.Now().Add(10 * time.Second)})
	c := connect(t, srv, tok)

	clock.Advance(9 * time.Second)
	_, err := c.Version(ctx)
	require.NoError(t, err, "one second before expiry")

	clock.Advance(time.Second)
	_, err = c.Version(ctx)
	assert.ErrorIs(t, err, pbs.ErrUnauthorized, "expire == now is expired on PBS")
}

func TestUserStateAppliesToItsTokens(t *testing.T) {
	clock := mockcore.NewFakeClock(time.Unix(1800000000, 0))
	srv, admin := adminSetup(t, pbstest.WithClock(clock.Now))
	ctx := ctxT(t)
	mona := mkUser(t, admin, "mona@pbs")
	c := connect(t, srv, mkToken(t, admin, "mona@pbs!t", pbs.TokenOptions{}))
	_, err := c.Version(ctx)
	require.NoError(t, err)

	require.NoError(t, admin.Access.UpdateUser(ctx, mona, pbs.UserUpdate{Enable: ptr(false)}))
	_, err = c.Version(ctx)
	assert.ErrorIs(t, err, pbs.ErrUnauthorized, "a disabled user's tokens fail")

	require.NoError(t, admin.Access.UpdateUser(ctx, mona, pbs.UserUpdate{Enable: ptr(true), Expire: ptr(clock.Now())}))
	_, err = c.Version(ctx)
	assert.ErrorIs(t, err, pbs.ErrUnauthorized, "an expired user's tokens fail")

	require.NoError(t, admin.Access.UpdateUser(ctx, mona, pbs.UserUpdate{Expire: ptr(time.Time{})}))
	_, err = c.Version(ctx)
	assert.NoError(t, err)
}

func TestTokenCreatedDisabled(t *testing.T) {
	srv, admin := adminSetup(t)
	mkUser(t, admin, "ned@pbs")
	tok := mkToken(t, admin, "ned@pbs!off", pbs.TokenOptions{Enable: ptr(false)})
	_, err := connect(t, srv, tok).Version(ctxT(t))
	assert.ErrorIs(t, err, pbs.ErrUnauthorized)
}

func TestSelfServiceTokens(t *testing.T) {
	srv, admin := adminSetup(t, pbstest.WithRootPassword(auth.NewSecret("rootpw")))
	ctx := ctxT(t)
	ola := auth.MustParseUserid("ola@pbs")
	require.NoError(t, admin.Access.CreateUser(ctx, pbs.NewUser{ID: ola, Password: auth.NewSecret("olapass")}))
	creds, err := auth.NewTicketCredentials(ola, auth.NewSecret("olapass"))
	require.NoError(t, err)
	self := connect(t, srv, creds)

	// A user manages its own tokens without any privilege.
	ct, err := self.Access.CreateToken(ctx, auth.MustParseAuthid("ola@pbs!mine"), pbs.TokenOptions{})
	require.NoError(t, err)
	_, _, err = self.Access.ListTokens(ctx, ola)
	require.NoError(t, err)

	// Someone else's tokens need Permissions.Modify on /access/users.
	mkUser(t, admin, "pia@pbs")
	_, err = self.Access.CreateToken(ctx, auth.MustParseAuthid("pia@pbs!x"), pbs.TokenOptions{})
	assert.ErrorIs(t, err, pbs.ErrForbidden)
	pe := apiError(t, err)
	assert.Equal(t, "permission check failed", pe.Message)

	// A token is never "the user": it cannot manage its owner's tokens.
	tokClient := connect(t, srv, ct.Credentials())
	_, err = tokClient.Access.CreateToken(ctx, auth.MustParseAuthid("ola@pbs!other"), pbs.TokenOptions{})
	assert.ErrorIs(t, err, pbs.ErrForbidden)
	_, _, err = tokClient.Access.ListTokens(ctx, ola)
	assert.ErrorIs(t, err, pbs.ErrForbidden)
}
