package pbs_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

func TestNewClientFromEnvironment(t *testing.T) {
	srv := pbstest.NewServer(t)
	ctx := ctxT(t)
	repo := srv.AdminToken.ID.String() + "@" + srv.URL[len("https://"):] + ":" + srv.Datastore
	env, err := auth.LoadPBSEnvironment(ctx, auth.MapEnv(map[string]string{
		"PBS_REPOSITORY":  repo,
		"PBS_PASSWORD":    srv.AdminToken.Secret.Reveal(),
		"PBS_FINGERPRINT": srv.Fingerprint.String(),
	}))
	require.NoError(t, err)
	c, err := pbs.NewClientFromEnvironment(env, noRetry)
	require.NoError(t, err)
	assert.Equal(t, srv.URL, c.BaseURL())
	assert.Equal(t, srv.AdminToken.ID, c.AuthID())
	assert.Equal(t, pbs.Target{Datastore: "store1"}, c.Target())
	_, err = c.Version(ctx)
	require.NoError(t, err)

	// Without the fingerprint the self-signed certificate is refused.
	env.Fingerprint = nil
	c, err = pbs.NewClientFromEnvironment(env, noRetry)
	require.NoError(t, err)
	_, err = c.Version(ctx)
	assert.Error(t, err)

	env.Secret = auth.Secret{}
	_, err = pbs.NewClientFromEnvironment(env)
	var missing *auth.MissingSecretError
	assert.ErrorAs(t, err, &missing)

	_, err = pbs.NewClientFromEnvironment(&auth.PBSEnvironment{})
	assert.ErrorIs(t, err, pbs.ErrInvalidRequest)
}

func TestNewClientFromRepositoryWithPassword(t *testing.T) {
	srv := pbstest.NewServer(t, pbstest.WithRootPassword(auth.NewSecret("rootpw")))
	r, err := auth.ParseRepository("root@pam@" + srv.URL[len("https://"):] + ":store1")
	require.NoError(t, err)
	c, err := pbs.NewClientFromRepository(r, auth.NewSecret("rootpw"), pbs.WithFingerprint(srv.Fingerprint))
	require.NoError(t, err)
	_, err = c.Version(ctxT(t))
	require.NoError(t, err, "a user id in the repository logs in with a ticket")
}

func TestNewClientFromConfig(t *testing.T) {
	srv := pbstest.NewServer(t)
	ctx := ctxT(t)
	r, err := auth.ParseRepository(srv.AdminToken.ID.String() + "@" + srv.URL[len("https://"):] + ":store1")
	require.NoError(t, err)
	fp := srv.Fingerprint
	cfg, err := auth.NewPBSConfig(r, srv.AdminToken.Secret, &fp, "team/host1")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "pbs-config.json")
	require.NoError(t, auth.WritePBSConfig(path, cfg))
	read, err := auth.ReadPBSConfig(path)
	require.NoError(t, err)

	c, err := pbs.NewClientFromConfig(read, noRetry)
	require.NoError(t, err)
	ns, err := datastore.ParseNamespace("team/host1")
	require.NoError(t, err)
	assert.Equal(t, pbs.Target{Datastore: "store1", Namespace: ns}, c.Target())
	_, err = c.Version(ctx)
	require.NoError(t, err)

	_, err = pbs.NewClientFromConfig(nil)
	assert.Error(t, err)
	bad := *read
	bad.Namespace = "a//b"
	_, err = pbs.NewClientFromConfig(&bad)
	assert.Error(t, err)
}
