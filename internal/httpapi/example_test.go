package httpapi_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/httpapi"
)

// pbsLike starts a tiny TLS server answering like PBS: a user list with a
// digest, and a plain-text 400 for a missing token.
func pbsLike() *httptest.Server {
	return httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		switch r.URL.Path {
		case "/api2/json/access/users":
			_, _ = io.WriteString(w, `{"data":[{"userid":"root@pam"},{"userid":"alice@pbs"}],"digest":"7c2f"}`)
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, "token 'old' of user 'alice@pbs' does not exist.")
		}
	}))
}

// trusting returns a client for srv that verifies its test certificate.
func trusting(srv *httptest.Server, creds auth.Credentials) *httpapi.Client {
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	tlsConfig, err := auth.TLSConfig(auth.WithRootCAs(roots))
	if err != nil {
		panic(err)
	}
	c, err := httpapi.New(httpapi.Config{BaseURL: srv.URL, Product: auth.PBS, Credentials: creds, TLSConfig: tlsConfig})
	if err != nil {
		panic(err)
	}
	return c
}

func Example() {
	srv := pbsLike()
	defer srv.Close()
	token, err := auth.NewToken(auth.MustParseAuthid("alice@pbs!backup"), auth.NewSecret("d63e505a-e3ec-449a-9bc7-1da610d4ccde"))
	if err != nil {
		panic(err)
	}
	c := trusting(srv, token)

	var users []struct {
		Userid string `json:"userid"`
	}
	resp, err := c.Do(context.Background(), httpapi.Request{Path: "/access/users", Out: &users})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(users), users[1].Userid, resp.Digest)

	path := httpapi.JoinPath("access", "users", "alice@pbs", "token", "old")
	err = c.Delete(context.Background(), path, nil, nil)
	var apiErr *httpapi.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, errors.Is(err, httpapi.ErrNotFound))
		fmt.Println(err)
	}
	// Output:
	// 2 alice@pbs 7c2f
	// 400 true
	// PBS DELETE /access/users/alice@pbs/token/old: HTTP 400 Bad Request: token 'old' of user 'alice@pbs' does not exist.
}

func ExampleEncodeParams() {
	// An update struct: nil pointers are "not set" and are not sent.
	type tokenUpdate struct {
		Comment *string    `api:"comment"`
		Expire  *time.Time `api:"expire"`
		Privsep *bool      `api:"privsep"`
		Delete  []string   `api:"delete,omitempty"`
	}
	comment := "rotated"
	v, err := httpapi.EncodeParams(auth.PVE, tokenUpdate{Comment: &comment})
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Encode(auth.PVE))

	off := false
	v, _ = httpapi.EncodeParams(auth.PBS, tokenUpdate{Privsep: &off, Delete: []string{"comment", "email"}})
	fmt.Println(v.Encode(auth.PBS))
	// Output:
	// comment=rotated
	// privsep=0&delete=comment&delete=email
}

func ExampleValues() {
	var v httpapi.Values
	v.Set("path", "/datastore/store1")
	v.SetList("roles", []string{"DatastoreReader", "DatastoreBackup"})
	v.SetBool("propagate", true)
	v.SetSecret("password", auth.NewSecret("s3cret"))
	fmt.Println(v.Encode(auth.PVE))
	fmt.Println(v.Encode(auth.PBS))
	fmt.Println(v) // secrets are redacted when printed
	// Output:
	// path=%2Fdatastore%2Fstore1&roles=DatastoreReader%2CDatastoreBackup&propagate=1&password=s3cret
	// path=%2Fdatastore%2Fstore1&roles=DatastoreReader&roles=DatastoreBackup&propagate=1&password=s3cret
	// path=/datastore/store1&roles=DatastoreReader,DatastoreBackup&propagate=1&password=[redacted]
}

func ExampleJoinPath() {
	fmt.Println(httpapi.JoinPath("access", "users", "alice@pbs!backup"))
	fmt.Println(httpapi.JoinPath("admin", "datastore", "store 1", "namespace"))
	// Output:
	// /access/users/alice@pbs!backup
	// /admin/datastore/store%201/namespace
}

func ExampleRetryPolicy() {
	// Zero fields use the defaults; NoRetry sends every request once.
	c, err := httpapi.New(httpapi.Config{
		BaseURL: "https://pve.example.com",
		Product: auth.PVE,
		Retry:   httpapi.RetryPolicy{MaxAttempts: 5, MaxBackoff: 2 * time.Second},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(c.BaseURL())
	// Output: https://pve.example.com:8006
}
