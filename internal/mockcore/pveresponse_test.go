package mockcore

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

// pveReplies serves one PVE reply per path, through a real TLS server.
func pveReplies(t *testing.T) *Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/data", func(w http.ResponseWriter, r *http.Request) {
		WritePVEData(w, r, map[string]any{"version": "9.0", "html": "<b>&"})
	})
	mux.HandleFunc("/result", func(w http.ResponseWriter, r *http.Request) {
		WritePVEResult(w, r, []int{1, 2}, map[string]any{"total": 2, "data": "ignored"})
	})
	mux.HandleFunc("/null", func(w http.ResponseWriter, r *http.Request) { WritePVEData(w, r, nil) })
	mux.HandleFunc("/unencodable", func(w http.ResponseWriter, r *http.Request) { WritePVEData(w, r, func() {}) })
	mux.HandleFunc("/noticket", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "PVEAuthCookie=; Max-Age=0")
		WritePVEAuthError(w, r, PVEReasonNoTicket)
	})
	mux.HandleFunc("/csrf", func(w http.ResponseWriter, r *http.Request) { WritePVEAuthError(w, r, PVEReasonInvalidCSRF) })
	mux.HandleFunc("/perm", func(w http.ResponseWriter, r *http.Request) {
		WritePVEPermissionDenied(w, r, "/vms/100", "VM.Audit", "VM.Console")
	})
	mux.HandleFunc("/perm-bare", func(w http.ResponseWriter, r *http.Request) { WritePVEPermissionDenied(w, r, "") })
	mux.HandleFunc("/token-refused", func(w http.ResponseWriter, r *http.Request) {
		WritePVETokenRefused(w, r, "/access/ticket")
	})
	mux.HandleFunc("/params", func(w http.ResponseWriter, r *http.Request) {
		p, err := ParsePVEParams(r)
		if err != nil {
			WritePVEFailure(w, r, err)
			return
		}
		p.RejectUnknown("privsep")
		p.Bool("privsep")
		if err := p.Err(); err != nil {
			WritePVEFailure(w, r, err)
			return
		}
		WritePVEData(w, r, nil)
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		WritePVEFailure(w, r, errors.New("user 'x@pve' does not exist\nsecond line"))
	})
	mux.HandleFunc("/httperr", func(w http.ResponseWriter, r *http.Request) {
		WritePVEFailure(w, r, Errorf(http.StatusBadRequest, "no such thing %d", 7))
	})
	mux.HandleFunc(APIPrefix+"/access/nothing", WritePVENotImplemented)
	return startTestServer(t, mux)
}

func TestPVEReasonPhraseReachesGoClient(t *testing.T) {
	s := pveReplies(t)
	c := s.Client()

	resp, body := get(t, c, s.URL+"/noticket")
	assert.Equal(t, "401 No ticket", resp.Status)
	assert.Equal(t, 401, resp.StatusCode)
	assert.Empty(t, body)
	assert.Equal(t, int64(0), resp.ContentLength)
	assert.True(t, resp.Close, "raw replies end the connection")
	assert.Equal(t, "PVEAuthCookie=; Max-Age=0", resp.Header.Get("Set-Cookie"), "headers set before the reply are kept")
	assert.Empty(t, resp.Header.Get(ReasonHeader))
	assert.NotEmpty(t, resp.Header.Get("Date"))

	resp, body = get(t, c, s.URL+"/csrf")
	assert.Equal(t, "401 Permission denied - invalid csrf token", resp.Status)
	assert.Empty(t, body)

	// The client keeps working after the server closed the connection.
	resp, body = get(t, c, s.URL+"/data")
	assert.Equal(t, "200 OK", resp.Status)
	assert.Equal(t, JSONContentType, resp.Header.Get("Content-Type"))
	assert.Equal(t, `{"data":{"html":"<b>&","version":"9.0"}}`, body)
}

func TestPVEErrorBodies(t *testing.T) {
	s := pveReplies(t)
	c := s.Client()
	tests := []struct {
		path, status, body string
	}{
		{"/perm", "403 Permission check failed (/vms/100, VM.Audit|VM.Console)",
			`{"data":null,"message":"Permission check failed (/vms/100, VM.Audit|VM.Console)\n"}`},
		{"/perm-bare", "403 Permission check failed", `{"data":null,"message":"Permission check failed\n"}`},
		{"/token-refused", "403 Permission check failed (URI '/access/ticket' not available with API token, need proper ticket.",
			`{"data":null,"message":"Permission check failed (URI '/access/ticket' not available with API token, need proper ticket.\n)\n"}`},
		{"/fail", "500 user 'x@pve' does not exist", `{"data":null,"message":"user 'x@pve' does not exist\nsecond line\n"}`},
		{"/httperr", "400 no such thing 7", `{"data":null,"message":"no such thing 7\n"}`},
		{APIPrefix + "/access/nothing", "501 Method 'GET /access/nothing' not implemented",
			`{"data":null,"message":"Method 'GET /access/nothing' not implemented\n"}`},
		{"/params?privsep=true", "400 Parameter verification failed.",
			`{"data":null,"errors":{"privsep":"type check ('boolean') failed - got 'true'"},"message":"Parameter verification failed.\n"}`},
		{"/params?privsep=1&x=1", "400 Parameter verification failed.",
			`{"data":null,"errors":{"x":"property is not defined in schema and the schema does not allow additional properties"},"message":"Parameter verification failed.\n"}`},
		{"/params?privsep=1", "200 OK", `{"data":null}`},
		{"/null", "200 OK", `{"data":null}`},
		{"/result", "200 OK", `{"data":[1,2],"total":2}`},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, c, s.URL+tc.path)
			assert.Equal(t, tc.status, resp.Status)
			assert.Equal(t, tc.body, body)
			assert.Equal(t, JSONContentType, resp.Header.Get("Content-Type"))
			assert.True(t, json.Valid([]byte(body)))
		})
	}
	resp, body := get(t, c, s.URL+"/unencodable")
	assert.Equal(t, 500, resp.StatusCode)
	assert.Contains(t, body, "could not encode")
}

func TestPVERawReplyAfterRequestBody(t *testing.T) {
	s := pveReplies(t)
	c := s.Client()
	// A POST whose body the handler never reads still gets its reply: the
	// body is drained before the connection is closed.
	body := strings.Repeat("x=1&", 64<<10)
	resp, err := c.Post(s.URL+"/noticket", "application/x-www-form-urlencoded", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "401 No ticket", resp.Status)

	resp, err = c.Head(s.URL + "/perm")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "403 Permission check failed (/vms/100, VM.Audit|VM.Console)", resp.Status)
	assert.Empty(t, b)
}

func TestPVERawReplyWireFormat(t *testing.T) {
	s := pveReplies(t)
	conn, err := tls.Dial("tcp", s.Addr, &tls.Config{RootCAs: s.CertPool()})
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /noticket HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	raw, err := io.ReadAll(bufio.NewReader(conn)) // the server closes after the reply
	require.NoError(t, err)
	text := string(raw)
	assert.True(t, strings.HasPrefix(text, "HTTP/1.1 401 No ticket\r\n"), text)
	assert.Contains(t, text, "\r\nContent-Length: 0\r\n")
	assert.Contains(t, text, "\r\nConnection: close\r\n")
	assert.True(t, strings.HasSuffix(text, "\r\n\r\n"), "empty body")
}

func TestPVEErrorFallbackWithoutHijack(t *testing.T) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/x", nil)
	WritePVEAuthError(rec, req, PVEReasonAuthFailed)
	assert.Equal(t, 401, rec.Code)
	assert.Equal(t, PVEReasonAuthFailed, rec.Header().Get(ReasonHeader))
	assert.Empty(t, rec.Body.String())

	rec = httptest.NewRecorder()
	WritePVEPermissionDenied(rec, req, "/", "Sys.Audit")
	assert.Equal(t, 403, rec.Code)
	assert.Equal(t, "Permission check failed (/, Sys.Audit)", rec.Header().Get(ReasonHeader))
	assert.JSONEq(t, `{"data":null,"message":"Permission check failed (/, Sys.Audit)\n"}`, rec.Body.String())

	// A nil request also falls back (no connection to hijack).
	rec = httptest.NewRecorder()
	WritePVEError(rec, nil, 500, "bad\r\nInjected: 1", nil)
	assert.Equal(t, "bad  Injected: 1", rec.Header().Get(ReasonHeader), "reason kept on one line")
}

func TestPVEAuthReason(t *testing.T) {
	assert.Equal(t, PVEReasonNoTicket, PVEAuthReason(&AuthError{Kind: ErrNoCredentials}))
	assert.Equal(t, PVEReasonInvalidCSRF, PVEAuthReason(&AuthError{Kind: ErrInvalidCSRF}))
	assert.Equal(t, PVEReasonAuthFailed, PVEAuthReason(&AuthError{Kind: ErrAuthFailed}))
	assert.Equal(t, PVEReasonAuthFailed, PVEAuthReason(errors.New("other")))
}

func TestPVEPermissionText(t *testing.T) {
	assert.Equal(t, "Permission check failed (/access, Sys.Audit)", PVEPermissionText("/access", "Sys.Audit"))
	assert.Equal(t, "Permission check failed (/vms/1, VM.Audit|VM.Console)", PVEPermissionText("/vms/1", "VM.Audit", "VM.Console"))
	assert.Equal(t, "Permission check failed", PVEPermissionText(""))
	_ = auth.PVE
}
