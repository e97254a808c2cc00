// Package acl answers "what may this caller do here?" exactly as Proxmox VE
// and Proxmox Backup Server answer it: ACL paths, privileges, both
// products' built-in roles, and one evaluator with product switches that
// computes effective privileges offline. The mock servers of this project
// keep their ACL state in a Policy and change it through its methods, so
// the rules below are written down once.
//
// # Paths
//
// An ACL path names an object: /vms/100, /storage/local, /datastore/store1/ns1.
// NormalizePath applies PVE's normalization (collapse slashes, add the
// leading one) or PBS's strict syntax (no normalization at all);
// ValidatePath additionally checks, as the servers do when an entry is
// added, that the path names a kind of object the product knows.
//
// # Roles to privileges
//
// A role is a named set of privileges (BuiltinRoles; PVE also has custom
// roles, Policy.SetRole). An Entry gives a subject (user, group or API
// token) a role on a path, with a propagate flag saying whether it is
// inherited below the path.
//
// To evaluate subject S on path P, the evaluator walks from "/" down to P.
// At each level it takes the entries of S that apply there: all of them at
// P itself, only the propagating ones above P. When a level has any, they
// replace everything collected so far; a deeper grant never adds to a
// higher one, and a non-propagating entry is invisible below its path
// without interrupting what flows through it. On PVE a user's own entries
// at a level shadow those of its groups at that level only; without own
// entries there, the union of its groups' entries applies. PBS stores group
// entries but never applies them. If NoAccess is among the final roles, it
// is the only one.
//
// The privileges are the union of those roles, each propagated if any role
// granting it is (PVE shows the flag as 0/1, PBS as a boolean). PVE then
// adds the roles a subject holds on /pool/<name> to each member VM's and
// storage's path, unpropagated, never lifting a NoAccess (but a pool
// NoAccess wins). root@pam, the user, holds every privilege; its tokens do
// not.
//
// # Tokens
//
// An API token with privilege separation (always on PBS, the PVE default)
// is evaluated on its own entries and then intersected with its owner's
// privileges on the same path, propagate flags ANDed: a token never exceeds
// its owner, and a token whose owner holds nothing holds nothing. A PVE
// token without privilege separation is exactly its owner: its own entries
// are ignored. root@pam's separated tokens are not capped.
//
// # For servers and linters
//
// Policy.UpdatePVEACL and Policy.UpdatePBSACL perform PUT /access/acl with
// each server's checks and messages; Policy.ListACL and Policy.Permissions
// give what GET /access/acl and GET /access/permissions show. Lint points
// out grants that are risky (administrator roles on / for tokens) or do
// nothing (separated tokens without entries, tokens capped to nothing by
// their owner).
//
//	p := acl.NewPolicy(auth.PBS)
//	_ = p.Grant(acl.EntryFor("/datastore", owner, "DatastoreAdmin", true))
//	_ = p.Grant(acl.EntryFor("/datastore/store1", token, "DatastoreBackup", true))
//	ok := p.Check(token, "/datastore/store1", "Datastore.Backup") // true
package acl
