package mockcore

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/proxkit/proxkit/auth"
)

func TestPBSReplies(t *testing.T) {
	digest := "5a1b7e3d09c2f4a68b1e0d9c7f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"
	rt := NewRouter(APIPrefix, http.HandlerFunc(WritePBSNotFound))
	rt.Handle("GET", "/access/users", func(w http.ResponseWriter, r *http.Request) {
		WritePBSData(w, []map[string]any{{"userid": "root@pam", "enable": true}}, map[string]any{"digest": digest})
	})
	rt.Handle("GET", "/unauth", func(w http.ResponseWriter, r *http.Request) {
		WritePBSError(w, http.StatusUnauthorized, PBSAuthFailed)
	})
	rt.Handle("GET", "/default", func(w http.ResponseWriter, r *http.Request) { WritePBSError(w, 0, "no status") })
	rt.Handle("GET", "/param", func(w http.ResponseWriter, r *http.Request) {
		WritePBSFailure(w, NewParamError(auth.PBS, "userid", "value does not match the regex pattern"))
	})
	rt.Handle("GET", "/forbidden", func(w http.ResponseWriter, r *http.Request) {
		WritePBSFailure(w, Errorf(http.StatusForbidden, PBSPermissionFailed))
	})
	rt.Handle("GET", "/plain", func(w http.ResponseWriter, r *http.Request) {
		WritePBSFailure(w, errors.New("missing permissions 'Datastore.Audit' on '/datastore/store1'"))
	})
	rt.Handle("GET", "/unencodable", func(w http.ResponseWriter, r *http.Request) { WritePBSData(w, make(chan int), nil) })
	s := startTestServer(t, PBSPaths(rt))
	c := s.Client()

	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/api2/json/access/users", 200, `{"data":[{"enable":true,"userid":"root@pam"}],"digest":"` + digest + `"}`},
		{"//api2//json/access/users/", 200, `{"data":[{"enable":true,"userid":"root@pam"}],"digest":"` + digest + `"}`},
		{"/api2/json/unauth", 401, "authentication failed"},
		{"/api2/json/default", 400, "no status"},
		{"/api2/json/param", 400, "parameter verification failed - 'userid': value does not match the regex pattern"},
		{"/api2/json/forbidden", 403, "permission check failed"},
		{"/api2/json/plain", 400, "missing permissions 'Datastore.Audit' on '/datastore/store1'"},
		{"/api2/json/nothing", 404, "Path '/api2/json/nothing' not found."},
		{"//api2/json/nothing/", 404, "Path '/api2/json/nothing' not found."},
		{"/api2/json/.hidden", 400, "path contains illegal components"},
		{"/api2/json/access/..", 400, "path contains illegal components"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, c, s.URL+tc.path)
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, tc.body, body)
			assert.Equal(t, JSONContentType, resp.Header.Get("Content-Type"), "PBS says JSON even for plain-text errors")
			assert.False(t, resp.Close, "PBS replies keep the connection")
		})
	}
	resp, body := get(t, c, s.URL+"/api2/json/unencodable")
	assert.Equal(t, 500, resp.StatusCode)
	assert.Contains(t, body, "could not encode")
}

func TestWritePBSErrorRecorder(t *testing.T) {
	rec := httptest.NewRecorder()
	WritePBSError(rec, 0, "x")
	assert.Equal(t, 400, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("Content-Length"))
}
