package pbs_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pbs"
)

// Many clients changing and reading the access state at once: every call
// succeeds, every secret works, and the race detector stays quiet.
func TestConcurrentAccessChanges(t *testing.T) {
	srv, admin := adminSetup(t)
	ctx := ctxT(t)
	mkUser(t, admin, "many@pbs")
	grant(t, admin, "/access", "many@pbs", "Audit", true)
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := auth.MustParseAuthid(fmt.Sprintf("many@pbs!t%d", i))
			ct, err := admin.Access.CreateToken(ctx, id, pbs.TokenOptions{})
			if err != nil {
				errs <- err
				return
			}
			errs <- admin.Access.GrantACL(ctx, pbs.ACLUpdate{Path: "/access", Role: "Audit", AuthID: id})
			c, err := pbs.NewClient(srv.URL, pbs.WithCredentials(ct.Credentials()), pbs.WithFingerprint(srv.Fingerprint), noRetry)
			if err != nil {
				errs <- err
				return
			}
			_, _, err = c.Access.ListUsers(ctx, nil)
			errs <- err
			_, err = c.Access.GetPermissions(ctx, nil)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	toks, _, err := admin.Access.ListTokens(ctx, auth.MustParseUserid("many@pbs"))
	require.NoError(t, err)
	assert.Len(t, toks, n)
}
