// Package pbs is a client for Proxmox Backup Server: access control
// (users, API tokens, ACLs, roles, permissions), datastore administration,
// and the backup writer and reader sessions of the PBS protocol.
//
//	c, err := pbs.NewClient("https://pbs.example.com:8007",
//		pbs.WithToken(auth.MustParseAuthid("backup@pbs!client"), secret),
//		pbs.WithFingerprint(fp))
//
// Or configured as proxmox-backup-client is, from PBS_REPOSITORY,
// PBS_PASSWORD and PBS_FINGERPRINT, or from a pbs-config.json:
//
//	env, err := auth.LoadPBSEnvironment(ctx, nil)
//	c, err := pbs.NewClientFromEnvironment(env)
//	store := c.Target().Datastore
//
// # Access control
//
// Client.Access manages users, API tokens, ACL entries and reads roles
// and effective permissions. PBS API tokens are always
// privilege-separated: a token holds what its own ACL entries grant and
// its user also holds on the same path, so a working token needs entries
// for both:
//
//	tok, err := c.Access.CreateToken(ctx, auth.MustParseAuthid("backup@pbs!nightly"), pbs.TokenOptions{})
//	// tok.Secret is shown once; store it now.
//	for _, id := range []auth.Authid{tok.ID, tok.ID.User().Authid()} {
//		err = c.Access.GrantACL(ctx, pbs.ACLUpdate{Path: "/datastore/store1", Role: "DatastoreBackup", AuthID: id})
//	}
//
// Reads return the configuration's Digest; pass it to a write to make it
// fail with ErrConflict when someone else changed the configuration in
// between. Updates send only the fields that are set (pointer fields), so
// nothing is reset by accident. Privileges are exchanged by name only,
// because their bit values changed in PBS 3.3; GetPermissions answers
// with acl.PrivSet values that package auth/acl evaluates offline too.
//
// Package pbs/pbstest runs an in-process PBS with the same rules for
// tests.
package pbs
