// Package pbs is a client for Proxmox Backup Server: access control
// (users, API tokens, ACLs, roles, permissions), datastore administration,
// and the backup writer and reader sessions of the PBS protocol.
//
//	c, err := pbs.NewClient("https://pbs.example.com:8007",
//		pbs.WithToken(auth.MustParseAuthid("backup@pbs!client"), secret),
//		pbs.WithFingerprint(fp))
package pbs
