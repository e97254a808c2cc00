package pbstest_test

import (
	"fmt"
	"io"

	"github.com/proxkit/proxkit/pbs/pbstest"
)

// A mock PBS for a program that is not a test; in tests, NewServer(t)
// does the same and closes the server when the test ends.
func ExampleStart() {
	srv, err := pbstest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	fmt.Println("datastore:", srv.Datastore)
	fmt.Println("admin token:", srv.AdminToken.ID)

	// Any HTTP client works: the token header is PBS's own.
	req, err := srv.Client().Get(srv.URL + "/api2/json/ping")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(req.Body)
	req.Body.Close()
	fmt.Println(string(body))
	// Output:
	// datastore: store1
	// admin token: root@pam!admin
	// {"data":{"pong":true}}
}
