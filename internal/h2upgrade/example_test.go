package h2upgrade_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/proxkit/proxkit/internal/h2upgrade"
)

// A server offering the backup protocol at /api2/json/backup, and a
// client opening a session there and sending a request inside it.
func Example() {
	session := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s over %s", r.Method, r.URL.Path, r.Proto)
	})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h2upgrade.Upgrade(w, r, h2upgrade.BackupProtocol, session); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// The session is over: a PBS server keeps or removes the snapshot now.
	}))
	defer srv.Close()

	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	u, _ := url.Parse(srv.URL + "/api2/json/backup?backup-id=100&backup-time=1700000000&backup-type=vm&store=tank")

	ctx := context.Background()
	conn, err := h2upgrade.Dial(ctx, h2upgrade.DialConfig{
		URL:       u,
		Protocol:  h2upgrade.BackupProtocol,
		TLSConfig: &tls.Config{RootCAs: roots},
		Authorize: func(r *http.Request) error {
			r.Header.Set("Authorization", "PBSAPIToken root@pam!backup:...")
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	resp, err := conn.Do(ctx, "POST", "/dynamic_chunk", url.Values{"wid": {"1"}}, "application/octet-stream", strings.NewReader("chunk"))
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 POST /dynamic_chunk over HTTP/2.0
}

// A refused upgrade carries the status and PBS's plain-text message.
func ExampleUpgradeError() {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "permission check failed", http.StatusForbidden)
	}))
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	u, _ := url.Parse(srv.URL + "/api2/json/reader?store=tank")

	_, err := h2upgrade.Dial(context.Background(), h2upgrade.DialConfig{
		URL: u, Protocol: h2upgrade.ReaderProtocol, TLSConfig: &tls.Config{RootCAs: roots},
	})
	var refused *h2upgrade.UpgradeError
	if errors.As(err, &refused) {
		fmt.Println(refused.Status, refused.Message)
	}
	// Output: 403 permission check failed
}
