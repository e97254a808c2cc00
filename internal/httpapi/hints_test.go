package httpapi

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

// apiErr runs one GET and returns the *APIError.
func apiErr(t *testing.T, c *Client, path string) *APIError {
	t.Helper()
	err := c.Get(context.Background(), path, nil, nil)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Contains(t, err.Error(), ae.Hint, "the hint is part of Error()")
	return ae
}

func TestHints401WithTokens(t *testing.T) {
	pve := newServer(t, auth.PVE, func(w http.ResponseWriter, r *http.Request) {
		if checkToken(t, auth.PVE, w, r, pveTokenID, testSecret) {
			writeData(w, nil, nil)
		}
	})
	pbs := newServer(t, auth.PBS, func(w http.ResponseWriter, r *http.Request) {
		if checkToken(t, auth.PBS, w, r, pbsTokenID, testSecret) {
			writeData(w, nil, nil)
		}
	})

	t.Run("wrong secret lists the causes", func(t *testing.T) {
		for _, srv := range []*product{pve, pbs} {
			id := pveTokenID
			if srv.product == auth.PBS {
				id = pbsTokenID
			}
			ae := apiErr(t, srv.client(auth.Token{ID: id, Secret: auth.NewSecret("wrong-secret-value")}), "/version")
			assert.Equal(t, hintToken401, ae.Hint, srv.product.String())
			assert.Contains(t, ae.Hint, "expired")
		}
	})

	t.Run("user id sent as a token", func(t *testing.T) {
		creds := headerCreds{id: auth.MustParseAuthid("alice@pve"), header: "PVEAPIToken=alice@pve=" + testSecret}
		ae := apiErr(t, pve.client(creds), "/version")
		assert.Contains(t, ae.Hint, "alice@pve is a user id, not an API token id")
	})

	t.Run("repository string as auth id", func(t *testing.T) {
		id := auth.MustParseAuthid("pve@pbs@pbs-store")
		require.NotEmpty(t, id.Hint())
		creds := headerCreds{id: id, header: "PBSAPIToken=pve@pbs@pbs-store:" + testSecret}
		ae := apiErr(t, pbs.client(creds), "/version")
		assert.Equal(t, id.Hint(), ae.Hint)
		assert.Contains(t, ae.Hint, "repository string")
	})

	t.Run("no credentials", func(t *testing.T) {
		ae := apiErr(t, pbs.client(nil), "/version")
		assert.Contains(t, ae.Hint, "no credentials were sent")
	})

	t.Run("PBS client talking to PVE", func(t *testing.T) {
		c, err := New(Config{BaseURL: pve.URL, Product: auth.PBS, Credentials: pbsTestToken, TLSConfig: pve.trust()})
		require.NoError(t, err)
		ae := apiErr(t, c, "/version")
		assert.Equal(t, "No ticket", ae.Reason)
		assert.Contains(t, ae.Hint, "answers like PVE but the client is set up for PBS")
	})

	t.Run("PVE client talking to PBS", func(t *testing.T) {
		c, err := New(Config{BaseURL: pbs.URL, Product: auth.PVE, Credentials: pveTestToken, TLSConfig: pbs.trust()})
		require.NoError(t, err)
		ae := apiErr(t, c, "/version")
		assert.Contains(t, ae.Hint, "answers like PBS but the client is set up for PVE")
	})
}

func TestHintsForPermissions(t *testing.T) {
	pve := newServer(t, auth.PVE, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api2/json/access/password" {
			msg := "Permission check failed (URI '/access/password' not available with API token, need proper ticket."
			writePVEError(t, w, 403, msg, msg, nil)
			return
		}
		writePVEError(t, w, 403, "Permission check failed (/vms/100, VM.Audit)", "Permission check failed (/vms/100, VM.Audit)", nil)
	})
	pbs := newServer(t, auth.PBS, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api2/json/access/password":
			writePBSError(w, 400, "API tokens cannot access this API endpoint")
		case "/api2/json/admin/datastore/store1/groups":
			writePBSError(w, 400, "missing permissions 'Datastore.Audit' on '/datastore/store1'")
		default:
			writePBSError(w, 403, "permission check failed")
		}
	})

	ae := apiErr(t, pve.client(pveTestToken), "/nodes/n1/qemu/100/status/current")
	assert.Equal(t, hintPVETokenPerm, ae.Hint)
	assert.Contains(t, ae.Hint, "privsep")
	ae = apiErr(t, pve.client(pveTestToken), "/access/password")
	assert.Equal(t, hintTokenOnly, ae.Hint)

	ae = apiErr(t, pbs.client(pbsTestToken), "/access/acl")
	assert.Equal(t, hintPBSTokenPerm, ae.Hint)
	ae = apiErr(t, pbs.client(pbsTestToken), "/admin/datastore/store1/groups")
	assert.Equal(t, hintPBSTokenPerm, ae.Hint, "PBS handlers report missing privileges as 400")
	ae = apiErr(t, pbs.client(pbsTestToken), "/access/password")
	assert.Equal(t, hintTokenOnly, ae.Hint)

	// Users (not tokens) get no token advice.
	user := headerCreds{id: auth.MustParseAuthid("bob@pbs"), header: "Basic x"}
	ae = apiErr(t, pbs.client(user), "/access/acl")
	assert.Empty(t, ae.Hint)
}

func TestHintTokenIDInUserPath(t *testing.T) {
	srv := newServer(t, auth.PVE, func(w http.ResponseWriter, r *http.Request) {
		writePVEError(t, w, 400, "Parameter verification failed.", "Parameter verification failed.",
			map[string]string{"userid": "value 'alice@pve!automation' does not look like a valid user name"})
	})
	ae := apiErr(t, srv.client(pveTestToken), JoinPath("access", "users", "alice@pve!automation"))
	assert.Equal(t, hintTokenPath, ae.Hint)
}

// ticketDouble stands in for session credentials (auth.Ticket) to observe
// Invalidate; it sends a ticket cookie.
type ticketDouble struct {
	invalidated atomic.Int32
}

func (d *ticketDouble) AuthID() auth.Authid { return auth.MustParseAuthid("bob@pve") }
func (d *ticketDouble) Apply(_ context.Context, r *http.Request, _ auth.Endpoint) error {
	r.Header.Set("Cookie", "PVEAuthCookie=PVE:bob@pve:6660A1B2::c2lnbmF0dXJl")
	if r.Method != http.MethodGet {
		r.Header.Set("CSRFPreventionToken", "6660A1B2:Y3NyZg")
	}
	return nil
}
func (d *ticketDouble) Invalidate() { d.invalidated.Add(1) }

func TestTicket401InvalidatesTheSession(t *testing.T) {
	srv := newServer(t, auth.PVE, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			writePVEError(t, w, 401, "Permission denied - invalid csrf token", "", nil)
			return
		}
		writePVEError(t, w, 401, "Authentication failed!", "", nil)
	})
	d := &ticketDouble{}
	c := srv.client(d)
	ae := apiErr(t, c, "/version")
	assert.Equal(t, int32(1), d.invalidated.Load())
	assert.Contains(t, ae.Hint, "ticket was refused")
	assert.Contains(t, ae.Hint, "next request logs in again")

	err := c.Post(context.Background(), "/access/users", nil, nil)
	require.ErrorAs(t, err, &ae)
	assert.Contains(t, ae.Hint, "CSRF token was refused")
	assert.Equal(t, int32(2), d.invalidated.Load())
	assert.NotContains(t, err.Error(), "c2lnbmF0dXJl")
}

// TestRealTicketCredentials logs in with auth.Ticket through the client's
// transport and re-logs in after a 401.
func TestRealTicketCredentials(t *testing.T) {
	var logins atomic.Int32
	var reject atomic.Bool
	srv := newServer(t, auth.PVE, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api2/json/access/ticket" {
			logins.Add(1)
			writeData(w, map[string]any{"username": "bob@pve", "ticket": "PVE:bob@pve:6660A1B2::c2ln",
				"CSRFPreventionToken": "6660A1B2:Y3NyZg"}, nil)
			return
		}
		if reject.Swap(false) || !strings.Contains(r.Header.Get("Cookie"), "PVEAuthCookie=PVE:bob@pve:6660A1B2::c2ln") {
			writePVEError(t, w, 401, "Authentication failed!", "", nil)
			return
		}
		writeData(w, "ok", nil)
	})
	ticket, err := auth.NewTicketCredentials(auth.MustParseUserid("bob@pve"), auth.NewSecret("s3cret-password"))
	require.NoError(t, err)
	c := srv.client(ticket, func(c *Config) { c.Retry = NoRetry })
	var s string
	require.NoError(t, c.Get(context.Background(), "/version", nil, &s))
	assert.Equal(t, "ok", s)
	assert.Equal(t, int32(1), logins.Load())

	reject.Store(true)
	err = c.Get(context.Background(), "/version", nil, &s)
	require.ErrorIs(t, err, ErrUnauthorized)
	require.NoError(t, c.Get(context.Background(), "/version", nil, &s))
	assert.Equal(t, int32(2), logins.Load(), "after a 401 the next request logs in again")
}
