// Command token-create creates an API token on a PVE or PBS server and
// stores its secret, which the server shows only this once:
//
//	token-create [-product pve|pbs] [--repository R | --url U --authid A] [--fingerprint FP]
//	             [--create-user] [--comment C] [--expire T] [--no-privsep]
//	             [--config FILE] [--secret-file FILE] [--print-secret] [--force] TOKENID
//
// TOKENID is the full id, e.g. backup@pbs!client. The caller authenticates
// with --repository or PBS_REPOSITORY, PBS_PASSWORD … for PBS, --url,
// --authid or PVE_URL, PVE_AUTHID, PVE_PASSWORD … for PVE (see package
// cli). For PBS the new token is written as a pbs-config.json (mode 0600;
// --config, default ./pbs-config.json) pointing at the same server and
// datastore. --secret-file writes the secret alone (mode 0600, usable as
// PBS_PASSWORD_FILE or PVE_PASSWORD_FILE); --print-secret prints it as the
// last line of stdout. Existing files are kept unless --force is given.
//
// A new token is privilege-separated (PBS tokens always are): it can do
// nothing until it gets ACL entries of its own (see acl-grant), and even
// then only what its user may do too.
package main
