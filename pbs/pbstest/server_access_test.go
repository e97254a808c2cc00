package pbstest_test

import (
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/pbs/pbstest"
)

// call sends method path with a form body (or query for GET/DELETE) as the
// admin token, and returns status, body and the decoded envelope.
func call(t *testing.T, srv *pbstest.Server, method, path string, form url.Values) (int, string, map[string]json.RawMessage) {
	t.Helper()
	var body io.Reader
	target := "/api2/json" + path
	if method == "GET" || method == "DELETE" {
		if len(form) > 0 {
			target += "?" + form.Encode()
		}
	} else {
		body = strings.NewReader(form.Encode())
	}
	status, b, header := pbstest.RawRequest(t, srv, method, target, body, "application/x-www-form-urlencoded", srv.AdminToken.PBSHeader())
	var env map[string]json.RawMessage
	if status == 200 {
		require.NoError(t, json.Unmarshal([]byte(b), &env), b)
	} else {
		assert.Equal(t, "application/json;charset=UTF-8", header.Get("Content-Type"),
			"PBS errors are plain text under a JSON content type")
	}
	return status, b, env
}

func TestUserAndTokenWireShapes(t *testing.T) {
	srv := pbstest.NewServer(t)
	status, body, _ := call(t, srv, "POST", "/access/users", url.Values{"userid": {"alice@pbs"}, "enable": {"true"}, "expire": {"0"}})
	require.Equal(t, 200, status, body)
	assert.JSONEq(t, `{"data":null}`, body)

	_, body, env := call(t, srv, "GET", "/access/users/alice@pbs", nil)
	assert.JSONEq(t, `{"userid":"alice@pbs","enable":true,"expire":0}`, string(env["data"]),
		"creation stores enable and expire exactly as given")
	assert.Regexp(t, `^"[0-9a-f]{64}"$`, string(env["digest"]), body)

	call(t, srv, "PUT", "/access/users/alice@pbs", url.Values{"enable": {"yes"}, "expire": {"0"}, "comment": {" x "}})
	_, _, env = call(t, srv, "GET", "/access/users/alice@pbs", nil)
	assert.JSONEq(t, `{"userid":"alice@pbs","comment":"x"}`, string(env["data"]),
		"updates store enable=true and expire=0 as unset")

	status, body, env = call(t, srv, "POST", "/access/users/alice@pbs/token/t1", url.Values{"enable": {"0"}, "comment": {"c"}})
	require.Equal(t, 200, status, body)
	var created struct {
		Tokenid string `json:"tokenid"`
		Value   string `json:"value"`
	}
	require.NoError(t, json.Unmarshal(env["data"], &created))
	assert.Equal(t, "alice@pbs!t1", created.Tokenid)
	assert.Len(t, created.Value, 36)

	_, _, env = call(t, srv, "GET", "/access/users/alice@pbs/token", nil)
	assert.JSONEq(t, `[{"token-name":"t1","tokenid":"alice@pbs!t1","comment":"c","enable":false}]`, string(env["data"]))
	_, _, env = call(t, srv, "GET", "/access/users/alice@pbs/token/t1", nil)
	assert.JSONEq(t, `{"tokenid":"alice@pbs!t1","comment":"c","enable":false}`, string(env["data"]),
		"the secret is never shown again")

	_, _, env = call(t, srv, "GET", "/access/users", url.Values{"include_tokens": {"1"}})
	assert.Contains(t, string(env["data"]), `"tokens":[{"tokenid":"alice@pbs!t1"`)
	_, _, env = call(t, srv, "GET", "/access/users", nil)
	assert.NotContains(t, string(env["data"]), "tokens")

	status, body, env = call(t, srv, "PUT", "/access/users/alice@pbs/token/t1", url.Values{"regenerate": {"1"}})
	require.Equal(t, 200, status, body)
	assert.Contains(t, string(env["data"]), `"tokenid":"alice@pbs!t1"`)
	status, body, _ = call(t, srv, "PUT", "/access/users/alice@pbs/token/t1", url.Values{"comment": {"d"}})
	require.Equal(t, 200, status)
	assert.JSONEq(t, `{"data":null}`, body)
}

func TestParameterErrorsInPBSShape(t *testing.T) {
	srv := pbstest.NewServer(t)
	for _, tc := range []struct {
		method, path string
		form         url.Values
		want         string
	}{
		{"POST", "/access/users", url.Values{}, "parameter verification failed - 'userid': parameter is missing and it is not optional."},
		{"POST", "/access/users", url.Values{"userid": {"alice@pbs!tok"}}, "parameter verification failed - 'userid': value does not match the regex pattern"},
		{"POST", "/access/users", url.Values{"userid": {"a@"}}, "parameter verification failed - 'userid': value must be at least 3 characters long"},
		{"POST", "/access/users", url.Values{"userid": {"x@pbs"}, "bogus": {"1"}}, "parameter verification failed - 'bogus': schema does not allow additional properties."},
		{"POST", "/access/users", url.Values{"userid": {"x@pbs"}, "expire": {"-1"}}, "parameter verification failed - 'expire': value must have a minimum value of 0 (got -1)"},
		{"POST", "/access/users", url.Values{"userid": {"x@pbs"}, "enable": {"maybe"}}, "parameter verification failed - 'enable': Unable to parse boolean option."},
		{"POST", "/access/users", url.Values{"userid": {"x@pbs"}, "comment": {"two\nlines"}}, "parameter verification failed - 'comment': value does not match the regex pattern"},
		{"PUT", "/access/users/root@pam", url.Values{"delete": {"userid"}}, "parameter verification failed - 'delete[0]': value 'userid' is not defined in the enumeration."},
		{"PUT", "/access/users/root@pam", url.Values{"digest": {"ABC"}}, "parameter verification failed - 'digest': value does not match the regex pattern"},
		{"PUT", "/access/users/root@pam", url.Values{"digest": {strings.Repeat("0", 64)}}, "detected modified configuration - file changed by other user? Try again."},
		{"GET", "/access/users/nobody@pbs", nil, "no such user 'nobody@pbs'"},
		{"GET", "/access/users/root@pam/token/none", nil, "no such token 'root@pam!none'"},
		{"PUT", "/access/users/root@pam/token/none", nil, "no such token 'root@pam!none'"},
		{"POST", "/access/users/root@pam/token/admin", nil, "token 'admin' for user 'root@pam' already exists."},
		{"PUT", "/access/acl", url.Values{"path": {"/"}, "role": {"Admin"}}, "missing 'userid' or 'group' parameter."},
		{"PUT", "/access/acl", url.Values{"path": {"/a//b"}, "role": {"Admin"}, "auth-id": {"root@pam"}}, "parameter verification failed - 'path': value does not match the regex pattern"},
		{"GET", "/access/permissions", url.Values{"path": {strings.Repeat("/a", 70)}}, "parameter verification failed - 'path': value may only be 128 characters long"},
	} {
		status, body, _ := call(t, srv, tc.method, tc.path, tc.form)
		assert.Equal(t, 400, status, "%s %s %v", tc.method, tc.path, tc.form)
		assert.Equal(t, tc.want, body, "%s %s %v", tc.method, tc.path, tc.form)
	}
}

func TestRootPamComesBackAfterDeletion(t *testing.T) {
	srv := pbstest.NewServer(t, pbstest.WithLegacyDeletion())
	call(t, srv, "PUT", "/access/users/root@pam", url.Values{"comment": {"changed"}})
	status, body, _ := call(t, srv, "DELETE", "/access/users/root@pam", nil)
	require.Equal(t, 200, status, body)
	_, _, env := call(t, srv, "GET", "/access/users/root@pam", nil)
	assert.JSONEq(t, `{"userid":"root@pam","comment":"Superuser"}`, string(env["data"]),
		"PBS adds root@pam back whenever user.cfg lacks it")

	// The clean deletion also removes root@pam's tokens, the admin token
	// included.
	srv = pbstest.NewServer(t)
	status, _, _ = call(t, srv, "DELETE", "/access/users/root@pam", nil)
	require.Equal(t, 200, status)
	status, _, _ = call(t, srv, "GET", "/version", nil)
	assert.Equal(t, 401, status)
}

func TestRolesWireShape(t *testing.T) {
	srv := pbstest.NewServer(t)
	_, _, env := call(t, srv, "GET", "/access/roles", nil)
	var roles []struct {
		Roleid  string `json:"roleid"`
		Privs   []any  `json:"privs"`
		Comment string `json:"comment"`
	}
	require.NoError(t, json.Unmarshal(env["data"], &roles))
	require.NotEmpty(t, roles)
	for _, r := range roles {
		for _, p := range r.Privs {
			assert.IsType(t, "", p, "privileges are exchanged as names, never bit values")
		}
		assert.NotEmpty(t, r.Comment, r.Roleid)
	}
}

func TestPermissionsWireShape(t *testing.T) {
	srv := pbstest.NewServer(t)
	_, _, env := call(t, srv, "GET", "/access/permissions", url.Values{"path": {"/datastore/store1"}})
	var perms map[string]map[string]any
	require.NoError(t, json.Unmarshal(env["data"], &perms))
	require.Contains(t, perms, "/datastore/store1")
	for _, v := range perms["/datastore/store1"] {
		assert.Equal(t, true, v, "propagate flags are JSON booleans on PBS")
	}
	_, _, env = call(t, srv, "GET", "/access/permissions", url.Values{"auth-id": {"root@pam"}})
	perms = nil
	require.NoError(t, json.Unmarshal(env["data"], &perms))
	assert.ElementsMatch(t, []string{"/", "/access", "/datastore", "/remote", "/system"}, keys(perms),
		"root@pam: PBS's default paths; the admin token's row on / adds no node")
}

func TestACLListWireShape(t *testing.T) {
	srv := pbstest.NewServer(t)
	_, _, env := call(t, srv, "GET", "/access/acl", nil)
	assert.JSONEq(t, `[{"path":"/","ugid":"root@pam!admin","ugid_type":"user","propagate":true,"roleid":"Admin"}]`,
		string(env["data"]), "tokens are listed with ugid_type user")
	assert.Regexp(t, `^"[0-9a-f]{64}"$`, string(env["digest"]))
}

func TestUnknownAccessPaths(t *testing.T) {
	srv := pbstest.NewServer(t)
	status, body, _ := call(t, srv, "PATCH", "/access/users", nil)
	assert.Equal(t, 404, status)
	assert.Equal(t, "Path '/api2/json/access/users' not found.", body)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
