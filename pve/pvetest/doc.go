// Package pvetest runs an in-process Proxmox VE API mock over TLS on a
// loopback port, with the access-control semantics of a real PVE 9.x
// server, for tests and for programs that need a server without setup.
//
//	srv := pvetest.NewServer(t) // closed when the test ends
//	c, err := pve.NewClient(srv.URL, pve.WithFingerprint(srv.Fingerprint),
//		pve.WithCredentials(srv.AdminToken))
//
// It implements users, groups, API tokens, ACLs, roles, effective
// permissions, ticket login (POST /access/ticket with CSRF tokens) and
// GET /version, with PVE's rules:
//
//   - API token secrets are generated like PVE's (random UUIDs), stored
//     only as salted hashes and shown once (create, regenerate);
//   - user and token enablement and expiry are checked on every request
//     (expire == now is still valid on PVE), through WithClock's time;
//   - authentication failures are 401 with an empty body and the text in
//     the reason phrase ("No ticket", "Authentication failed!"), missing
//     privileges 403 "Permission check failed (<path>, <priv>)", parameter
//     errors 400 {"data":null,"errors":{…}}, and handler failures 500
//     with PVE's texts ("no such user ('x')");
//   - each endpoint checks what the real one checks, and every privilege
//     question is answered by auth/acl's evaluator, the same code an
//     offline acl.Policy runs: a deeper ACL entry replaces inherited ones,
//     non-propagating entries are invisible below their path, separated
//     tokens are capped by their user, tokens without privilege separation
//     ignore their own ACL entries, entries for root@pam are accepted and
//     not stored.
//
// The server starts with root@pam and its token root@pam!admin
// (AdminToken), which holds Administrator on "/" through its own ACL
// entry, since root@pam's separated tokens do not inherit the superuser's
// rights. WithStateDir persists the state (secrets hashed) so that a
// server survives restarts; the admin token then keeps its name and ACL
// entry and gets a new secret on every start unless WithAdminSecret fixes
// it.
//
// Not modelled: resource pools, realms other than pam and pve, two-factor
// authentication, PUT /access/password, and clusters (no "clustername").
package pvetest
