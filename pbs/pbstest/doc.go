// Package pbstest runs an in-process Proxmox Backup Server mock with real
// semantics, for tests of code that talks to PBS (the httptest idiom):
//
//	srv := pbstest.NewServer(t)
//	c, err := pbs.NewClient(srv.URL, pbs.WithCredentials(srv.AdminToken),
//		pbs.WithFingerprint(srv.Fingerprint))
//
// The server listens with TLS on loopback (a self-signed certificate whose
// SHA-256 fingerprint is Server.Fingerprint), speaks HTTP/1.1 only (the
// backup and reader protocols upgrade HTTP/1.1 connections), and starts
// with a datastore named "store1" and an API token of root@pam that holds
// the Admin role on "/" through its own ACL entry, as an administrator sets
// it up on a real server (root@pam's tokens do not inherit the superuser's
// rights).
//
// What it implements follows shared/spec/access-api.md and
// pbs-protocol.md: API token and ticket authentication with PBS's header
// parsing, CSRF tokens and plain-text errors; users, API tokens (secrets
// generated as PBS does, stored only as salted hashes, shown once), ACLs,
// roles and effective permissions evaluated by package auth/acl, so that
// an offline evaluation agrees with the server; the optimistic "digest" of
// user and ACL updates; and the privilege each endpoint of PBS checks.
// Expiry and the enable flags of users and tokens are checked on every
// request against the server's clock (WithClock), with PBS's rule that an
// account expires at its expire second.
//
// Start is the same for programs that are not tests (examples/mockserver).
package pbstest
