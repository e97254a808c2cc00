package pbstest_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/proxkit/proxkit/pbs/pbstest"
)

// A server whose first backup session breaks after ten chunk uploads and
// whose first dynamic_close fails: a client's retry logic has to survive
// both.
func ExampleWithFaults() {
	srv, err := pbstest.Start(pbstest.WithFaults(
		pbstest.DropAfterChunks(10),
		pbstest.FailPath("/dynamic_close", 1, http.StatusInternalServerError),
	))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	fmt.Println(srv.PendingFaults(), "faults armed")
	// Output: 2 faults armed
}

// Faults can be armed on a running server too, e.g. between a first
// backup and the test of an incremental one; WaitSessions makes sure the
// server has cleaned up after a session the client abandoned.
func ExampleServer_InjectFault() {
	srv, err := pbstest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	srv.InjectFault(
		pbstest.Fault{Path: "/api2/json/backup", Status: http.StatusServiceUnavailable, Message: "maintenance"},
		pbstest.SlowResponses(10*time.Millisecond),
	)
	// ... run the client under test ...
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println(srv.WaitSessions(ctx), srv.ActiveSessions())
	for _, f := range []pbstest.Fault{pbstest.DropAfterChunks(10), pbstest.FailRequest(3, 500)} {
		fmt.Println(f)
	}
	// Output:
	// <nil> 0
	// fault on "/*_chunk" #11: drop connection
	// fault on any session request #3: status 500
}
