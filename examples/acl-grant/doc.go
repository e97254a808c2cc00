// Command acl-grant adds (or with --revoke removes) ACL entries on a PVE
// or PBS server: ROLE on PATH for every SUBJECT.
//
//	acl-grant [-product pve|pbs] [--repository R | --url U --authid A] [--fingerprint FP]
//	          [--revoke] [--no-propagate] PATH ROLE SUBJECT...
//
// SUBJECT is a user id (alice@pbs), a full token id (alice@pbs!backup) or,
// on PVE, a group written @NAME. The caller authenticates as token-create
// describes. Grant the least role on the narrowest path, e.g.
//
//	acl-grant /datastore/store1 DatastoreBackup backup@pbs!client backup@pbs
//	acl-grant -product pve /vms/100 PVEAuditor monitor@pve!ci monitor@pve
//
// and remember that a privilege-separated token gets only what its own
// entries and its user's entries both allow: grant both.
package main
