// Package options applies functional options: the loop that every
// constructor of the module with options runs (the clients, the upload
// calls, the datastore and both mock servers), written once.
package options
