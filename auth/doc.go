// Package auth holds who is calling a Proxmox VE (PVE) or Proxmox Backup
// Server (PBS) and how the caller proves it.
//
// Identities: Userid ("name@realm"), Authid (a user id or an API token id
// "name@realm!token") and TokenName parse exactly like the servers do (the
// split happens at the last '@', and a token id is recognised by a '!'
// after it). ValidateFor applies one product's stricter rules, and Hint
// explains ids that parse but are probably mistakes, such as
// "alice@pbs!backup@store1" (the user "alice@pbs!backup" in realm
// "store1"). Errors are *IDError (errors.Is ErrInvalidID) and never show
// what follows a '=' or ':' in the input, where a pasted secret would be.
//
// Credentials: a Token sends "PVEAPIToken=ID=SECRET" or
// "PBSAPIToken=ID:SECRET"; a *Ticket (NewTicketCredentials) logs in with a
// password, sends the ticket cookie and the CSRF token, and renews the
// ticket every 15 minutes. Both implement Credentials, which the HTTP
// clients call for every request. Secrets live in Secret, which never
// prints, logs or marshals its value.
//
// Servers: ParseFingerprint and FingerprintOf handle SHA-256 certificate
// fingerprints, and TLSConfig builds a *tls.Config that either verifies
// normally or accepts exactly one pinned certificate (returning a
// *FingerprintMismatchError naming both fingerprints otherwise).
// ParseRepository reads proxmox-backup-client repository strings
// "[[auth-id@]host[:port]:]datastore"; ParseBaseURL normalises
// "https://host:port".
//
// Configuration: LoadPBSEnvironment and LoadPVEEnvironment read the
// variables below through a LookupEnv (os.LookupEnv by default), and
// ReadPBSConfig / WritePBSConfig handle the pbs-config.json files hosting
// providers hand out (written with mode 0600).
//
// # Environment variables
//
//	variable          meaning
//	PBS_REPOSITORY    repository string [[auth-id@]host[:port]:]datastore
//	PBS_PASSWORD      password, or the API token secret when the auth id is a token
//	PBS_PASSWORD_FD   file descriptor number to read the secret from
//	PBS_PASSWORD_FILE file to read the secret from
//	PBS_PASSWORD_CMD  command whose output is the secret (split like a shell, run without one)
//	PBS_FINGERPRINT   expected server certificate fingerprint (ab:cd:… or 64 hex digits)
//	PVE_URL           PVE base URL, e.g. https://pve.example.com:8006 (port defaults to 8006)
//	PVE_AUTHID        user id (root@pam) or API token id (automation@pve!ci)
//	PVE_PASSWORD      password or API token secret, with _FD, _FILE, _CMD as for PBS
//	PVE_FINGERPRINT   expected PVE certificate fingerprint
//
// The PBS variables behave as in proxmox-backup-client: of PBS_PASSWORD,
// PBS_PASSWORD_FD, PBS_PASSWORD_FILE and PBS_PASSWORD_CMD the first one
// that is defined wins, even if empty, and only the first line of the
// value, file or output counts. Two deliberate differences: a
// PBS_FINGERPRINT without colons is accepted (the Rust client compares
// strings, so it never matches), and a pinned fingerprint is required
// even when the certificate is also valid for the system CAs (the Rust
// client then skips the comparison).
//
// A minimal token setup:
//
//	id, err := auth.ParseAuthid("backup@pbs!client")
//	…
//	tok, err := auth.NewToken(id, auth.NewSecret(os.Getenv("PBS_PASSWORD")))
//	…
//	tlsConf, err := auth.TLSConfig(auth.WithFingerprint(&fp))
package auth
