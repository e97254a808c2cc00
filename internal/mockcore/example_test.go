package mockcore_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
)

func ExampleParseTokenHeader() {
	id, secret, err := mockcore.ParseTokenHeader(auth.PBS, "PBSAPIToken john@pbs!client1:d63e505a-e3ec-449a-9bc7-1da610d4ccde")
	fmt.Println(id, secret, err)

	// The PVE separator sent to PBS: the id swallows "=secret" and fails.
	_, _, err = mockcore.ParseTokenHeader(auth.PBS, "PBSAPIToken=john@pbs!client1=d63e505a")
	fmt.Println(err != nil)
	// Output:
	// john@pbs!client1 [redacted] <nil>
	// true
}

func ExampleTicketSigner() {
	signer := mockcore.NewTicketSigner()
	issued := time.Unix(0x6660A1B2, 0)
	alice := auth.MustParseUserid("alice@pbs")
	ticket := signer.Mint(auth.PBS, alice, issued)
	fmt.Println(strings.Join(strings.SplitN(ticket, ":", 4)[:3], ":"))

	user, err := signer.Verify(auth.PBS, ticket, issued.Add(time.Hour))
	fmt.Println(user, err)
	_, err = signer.Verify(auth.PBS, ticket, issued.Add(3*time.Hour))
	fmt.Println(err)
	// Output:
	// PBS:alice@pbs:6660A1B2
	// alice@pbs <nil>
	// mockcore: invalid ticket: expired
}

func ExampleStartServer() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mockcore.WritePVEAuthError(w, r, mockcore.PVEReasonNoTicket)
	})
	srv, err := mockcore.StartServer("", h)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/api2/json/version")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%s, body %q, fingerprint of %d characters\n", resp.Status, body, len(srv.Fingerprint))
	// Output:
	// 401 No ticket, body "", fingerprint of 95 characters
}

func ExampleParsePBSParams() {
	r := httptest.NewRequest("GET", "/api2/json/admin/datastore/store1/snapshots?backup-type=vm&ns=a&ns=b&verbose=Yes", nil)
	p, err := mockcore.ParsePBSParams(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	p.RejectUnknown("backup-type", "backup-id", "ns")
	kind, _ := p.String("backup-type")
	ns, _ := p.String("ns")
	fmt.Printf("%s %q\n", kind, ns)
	fmt.Println(p.Err())
	// Output:
	// vm ""
	// parameter verification failed:
	// - 'verbose': schema does not allow additional properties.
	// - 'ns': duplicate parameter.
}

func ExampleParsePVEParams() {
	r := httptest.NewRequest("POST", "/api2/json/access/users/alice@pve/token/ci", strings.NewReader("privsep=true&expire=0"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p, _ := mockcore.ParsePVEParams(r)
	privsep := p.BoolOr("privsep", true)
	expire := p.IntOr("expire", 0)
	fmt.Println(privsep, expire)
	fmt.Println(p.Err().(*mockcore.ParamError).Map())
	// Output:
	// true 0
	// map[privsep:type check ('boolean') failed - got 'true']
}

func ExampleNormalizePBSPath() {
	fmt.Println(mockcore.NormalizePBSPath("//api2/json/backup"))
	_, err := mockcore.NormalizePBSPath("/api2/json/../etc")
	fmt.Println(err)
	// Output:
	// /api2/json/backup <nil>
	// 400: path contains illegal components
}
