package pvetest_test

import (
	"context"
	"fmt"
	"log"
	"testing"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pve"
	"github.com/proxkit/proxkit/pve/pvetest"
)

func ExampleStart() {
	srv, err := pvetest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	c, err := pve.NewClient(srv.URL, pve.WithFingerprint(srv.Fingerprint), pve.WithCredentials(srv.AdminToken))
	if err != nil {
		log.Fatal(err)
	}
	entries, err := c.Access.ListACL(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println(e.Path, e.Type, e.Subject, e.Role)
	}
	// Output: / token root@pam!admin Administrator
}

// In tests, NewServer fails the test if the server cannot start and
// closes it when the test ends.
func ExampleNewServer() {
	test := func(t *testing.T) {
		srv := pvetest.NewServer(t, pvetest.WithRootPassword(auth.NewSecret("test-password")))
		login, _ := auth.NewTicketCredentials(auth.RootUserid, auth.NewSecret("test-password"))
		c, _ := pve.NewClient(srv.URL, pve.WithFingerprint(srv.Fingerprint), pve.WithCredentials(login))
		if err := c.Access.CreateGroup(t.Context(), "ops", ""); err != nil {
			t.Fatal(err)
		}
	}
	_ = test
}
