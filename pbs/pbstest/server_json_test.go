package pbstest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

// proxmox-backup-client sends POST parameters as a JSON body; the mock
// reads them as PBS does (only the body counts then, path values merged).
func TestJSONBodies(t *testing.T) {
	srv := pbstest.NewServer(t, pbstest.WithRootPassword(auth.NewSecret("rootpw")))
	post := func(path, body, authz string) (int, string) {
		status, b, _ := pbstest.RawRequest(t, srv, "POST", "/api2/json"+path, strings.NewReader(body), "application/json", authz)
		return status, b
	}
	status, body := post("/access/ticket", `{"username":"root@pam","password":"rootpw"}`, "")
	require.Equal(t, 200, status, body)
	assert.Contains(t, body, `"ticket":"PBS:root@pam:`)

	status, body = post("/access/users", `{"userid":"json@pbs","enable":false,"expire":1}`, srv.AdminToken.PBSHeader())
	require.Equal(t, 200, status, body)
	status, body = post("/access/users/json@pbs/token/t", `{"comment":"c","enable":true}`, srv.AdminToken.PBSHeader())
	require.Equal(t, 200, status, body)
	var created struct {
		Data struct{ Tokenid, Value string } `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	assert.Equal(t, "json@pbs!t", created.Data.Tokenid)

	status, body = post("/access/users", `{"userid":"j2@pbs","enable":"yes"}`, srv.AdminToken.PBSHeader())
	assert.Equal(t, 400, status)
	assert.Equal(t, "parameter verification failed - 'enable': Expected boolean value.", body,
		"a JSON body needs JSON booleans")
}
