package pvetest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pve/pvetest"
)

// Many clients at once, with state saved after every change: run with
// -race.
func TestConcurrentClients(t *testing.T) {
	srv := pvetest.NewServer(t, pvetest.WithStateDir(t.TempDir()))
	admin := authz(srv.AdminToken)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("u%d@pve", i)
			assert.Equal(t, http.StatusOK, do(t, srv, "POST", "/access/users", url.Values{"userid": {user}}, admin).status)
			r := do(t, srv, "POST", "/access/users/"+user+"/token/t1", nil, admin)
			if !assert.Equal(t, http.StatusOK, r.status) {
				return
			}
			var created struct {
				Data struct {
					Value string `json:"value"`
					Full  string `json:"full-tokenid"`
				}
			}
			assert.NoError(t, json.Unmarshal([]byte(r.body), &created))
			tok := auth.Token{ID: auth.MustParseAuthid(created.Data.Full), Secret: auth.NewSecret(created.Data.Value)}
			assert.Equal(t, http.StatusOK, do(t, srv, "PUT", "/access/acl",
				url.Values{"path": {"/vms"}, "roles": {"PVEAuditor"}, "users": {user}, "tokens": {tok.ID.String()}}, admin).status)
			assert.Equal(t, http.StatusOK, do(t, srv, "GET", "/access/permissions", nil, authz(tok)).status)
		}()
	}
	wg.Wait()
	r := do(t, srv, "GET", "/access/acl", nil, admin)
	var rows struct{ Data []map[string]any }
	require.NoError(t, json.Unmarshal([]byte(r.body), &rows))
	assert.Len(t, rows.Data, 1+2*12)
}
