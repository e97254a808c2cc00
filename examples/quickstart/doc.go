// Command quickstart tells the whole story of this library in a few
// seconds, with no setup: it starts the PVE and PBS mock servers in this
// process and, as an administrator, sets up API tokens with least
// privilege the way the servers want it (and shows the mistakes people
// make on the way), then backs up, backs up again reusing chunks,
// restores and verifies.
//
//	go run ./examples/quickstart
package main
