package mockcore

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRouterPVE(t *testing.T) {
	rt := NewRouter(APIPrefix, http.HandlerFunc(WritePVENotImplemented))
	rt.Handle("GET", "/access/users/{userid}/token/{tokenid}", func(w http.ResponseWriter, r *http.Request) {
		WritePVEData(w, r, map[string]string{"userid": r.PathValue("userid"), "tokenid": r.PathValue("tokenid")})
	})
	rt.Handle("PUT", "/access/acl", func(w http.ResponseWriter, r *http.Request) { WritePVEData(w, r, nil) })
	rt.Handle("GET", "/access/permissions/{path...}", func(w http.ResponseWriter, r *http.Request) {
		WritePVEData(w, r, r.PathValue("path"))
	})
	s := startTestServer(t, rt)
	c := s.Client()

	resp, body := get(t, c, s.URL+"/api2/json/access/users/alice@pve/token/ci")
	assert.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"data":{"userid":"alice@pve","tokenid":"ci"}}`, body)

	// Encoded ids arrive decoded; an encoded slash stays in its segment.
	resp, body = get(t, c, s.URL+"/api2/json/access/users/john%40example.com%40pve/token/c%2Fi")
	assert.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"data":{"userid":"john@example.com@pve","tokenid":"c/i"}}`, body)

	resp, body = get(t, c, s.URL+"/api2/json/access/users/a!b@pve/token/x")
	assert.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"data":{"userid":"a!b@pve","tokenid":"x"}}`, body)

	resp, body = get(t, c, s.URL+"/api2/json/access/permissions/vms/100")
	assert.JSONEq(t, `{"data":"vms/100"}`, body)

	// Unknown path, wrong method and unclean paths: PVE's 501, no redirects.
	for path, status := range map[string]string{
		"/api2/json/access/nothing":                 "501 Method 'GET /access/nothing' not implemented",
		"/api2/json/access/acl":                     "501 Method 'GET /access/acl' not implemented",
		"/api2/json//access/acl":                    "501 Method 'GET //access/acl' not implemented",
		"/api2/json/access/users/a@pve/token/ci/..": "501 Method 'GET /access/users/a@pve/token/ci/..' not implemented",
		"/api2/json/access/users/a@pve/token/ci/":   "501 Method 'GET /access/users/a@pve/token/ci/' not implemented",
	} {
		resp, _ := get(t, c, s.URL+path)
		assert.Equal(t, status, resp.Status, path)
	}
}

func TestRouterNoPrefixAndConnect(t *testing.T) {
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	rt := NewRouter("", notFound)
	rt.Handle("GET", "/x", func(w http.ResponseWriter, r *http.Request) {})
	rec := httptest.NewRecorder()
	rt.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	assert.Equal(t, 200, rec.Code)
	rec = httptest.NewRecorder()
	req := httptest.NewRequest("CONNECT", "/x", nil)
	rt.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusTeapot, rec.Code)
	require.Panics(t, func() { rt.Handle("GET", "/x", func(http.ResponseWriter, *http.Request) {}) }, "conflicting pattern")
}

func TestIsCleanPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/a": true, "/a/": true, "/a/b": true,
		"": false, "a": false, "//a": false, "/a/./b": false, "/a/../b": false, "/a//": false,
	} {
		assert.Equal(t, want, isCleanPath(p), p)
	}
}

func TestNormalizePBSPath(t *testing.T) {
	tests := []struct {
		in, out string
		bad     bool
	}{
		{"/api2/json/backup", "/api2/json/backup", false},
		{"//api2/json/backup", "/api2/json/backup", false},
		{"/api2//json///x/", "/api2/json/x", false},
		{"", "/", false},
		{"/", "/", false},
		{"////", "/", false},
		{"/api2/json/a%2Fb", "/api2/json/a%2Fb", false},
		{"/api2/json/%2e%2e", "/api2/json/%2e%2e", false}, // the check sees the escaped form
		{"/api2/json/.", "", true},
		{"/api2/json/..", "", true},
		{"/api2/json/.hidden/x", "", true},
		{"/./api2", "", true},
		{"/api2/json/a.b", "/api2/json/a.b", false},
	}
	for _, tc := range tests {
		got, err := NormalizePBSPath(tc.in)
		if tc.bad {
			var he *HTTPError
			require.ErrorAs(t, err, &he, tc.in)
			assert.Equal(t, 400, he.Status)
			assert.Equal(t, PBSMsgIllegalPath, he.Message)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.out, got, tc.in)
	}
}

func TestPBSPathsDecodesComponents(t *testing.T) {
	rt := NewRouter(APIPrefix, http.HandlerFunc(WritePBSNotFound))
	rt.Handle("GET", "/admin/datastore/{store}/status", func(w http.ResponseWriter, r *http.Request) {
		WritePBSData(w, r.PathValue("store"), nil)
	})
	h := PBSPaths(rt)
	for path, want := range map[string]string{
		"/api2/json/admin/datastore/store1/status":    `{"data":"store1"}`,
		"//api2/json/admin//datastore/store1/status/": `{"data":"store1"}`,
		"/api2/json/admin/datastore/st%6Fre1/status":  `{"data":"store1"}`,
		"//api2/json/admin/datastore/a%2Fb/status":    `{"data":"a/b"}`,
		"/api2/json/admin/datastore/store1/nothing":   "Path '/api2/json/admin/datastore/store1/nothing' not found.",
		"//api2/json/admin/datastore/%2e%2e/nothing":  "Path '/api2/json/admin/datastore/%2e%2e/nothing' not found.",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		assert.Equal(t, want, rec.Body.String(), path)
	}
}
