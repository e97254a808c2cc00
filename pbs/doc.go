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
// # Backup and restore
//
// StartBackup opens a backup session: the PBS protocol over an HTTP/2
// connection that an HTTP/1.1 upgrade turned the TLS connection into. A
// session uploads any number of archives and blobs, then Finish uploads
// the manifest and makes the snapshot visible; a session that ends any
// other way (Abort, an error, its context cancelled) leaves nothing on
// the server. When the group has an earlier snapshot, chunks it already
// stores are appended by digest instead of being uploaded again.
//
//	s, err := c.StartBackup(ctx, pbs.BackupOptions{Datastore: "store1", Type: datastore.TypeHost, ID: "web01"})
//	defer s.Abort() // a no-op after Finish
//	_, err = s.UploadStream(ctx, "db.sql", dump)              // db.sql.didx, content-defined chunks
//	_, err = s.UploadImage(ctx, "disk.img", img, size)        // disk.img.fidx, 4 MiB chunks
//	_, err = s.UploadBlob(ctx, "app.conf", conf)              // app.conf.blob
//	res, err := s.Finish(ctx)                                 // res.Snapshot, res.Manifest, res.Stats
//
// StartReader opens a reader session on a snapshot. RestoreArchive writes
// an archive to an io.Writer and OpenArchive gives random access
// (io.ReaderAt); every chunk is checked against its digest and every file
// against the manifest, and a mismatch is an *IntegrityError naming the
// chunk and its offset.
//
//	r, err := c.StartReader(ctx, pbs.ReaderOptions{Datastore: "store1", Snapshot: res.Snapshot})
//	defer r.Close()
//	_, err = r.RestoreArchive(ctx, "db.sql", out)
//
// Client.UploadSpeedTest measures the upload speed of a backup session
// as proxmox-backup-client benchmark does, without keeping anything.
//
// Package pbs/pbstest runs an in-process PBS with the same rules, the
// backup and reader protocols included, for tests.
package pbs
