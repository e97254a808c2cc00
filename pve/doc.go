// Package pve is a client for the Proxmox VE API: access control (users,
// groups, API tokens, ACLs, roles, effective permissions), the server
// version, and a typed escape hatch (Get, Post, Put, Delete) for every
// other endpoint.
//
//	c, err := pve.NewClient("https://pve.example.com:8006",
//		pve.WithToken(auth.MustParseAuthid("automation@pve!ci"), secret),
//		pve.WithFingerprint(fp))
//	tok, err := c.Access.CreateToken(ctx, auth.MustParseAuthid("backup@pve!nightly"),
//		&pve.TokenOptions{Comment: "nightly backups"})
//	// tok.Secret is shown once; a separated token (the default) still needs
//	// its own ACL entry, and gets only what its user also holds there:
//	err = c.Access.Grant(ctx, pve.ACLChange{Path: "/vms/100", Roles: []string{"PVEAuditor"},
//		Tokens: []auth.Authid{tok.ID}})
//
// PVE sends booleans as 0/1 and times as epoch seconds; this package
// turns them into bool and time.Time (the zero time meaning "never"), and
// lists that PVE sends comma-joined in one answer and as arrays in
// another into slices. Create and update calls take option structs whose
// pointer fields are sent only when set, so an update never resets a
// setting the caller did not name.
//
// Errors of the server are *Error, usable with errors.Is (ErrUnauthorized,
// ErrForbidden, ErrNotFound, ErrExists …) and carrying a Hint for common
// mistakes with tokens. No error or log record contains a secret.
//
// Package pvetest runs an in-process mock of the same API for tests.
package pve
