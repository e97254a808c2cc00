// Command restore writes one archive of a PBS snapshot back out, every
// chunk checked against its digest and the archive against the manifest:
//
//	restore [--repository R] [--ns NS] SNAPSHOT ARCHIVE [OUT]
//
// SNAPSHOT is TYPE/ID/TIME as backup-stream and backup-image print it;
// ARCHIVE is named with or without its index suffix (db.sql or
// db.sql.didx, disk.img or disk.img.fidx; blobs too). The data goes to OUT,
// or to stdout when OUT is absent or "-". A file OUT is written under a
// temporary name and renamed into place only once everything verified, so
// a failed restore never leaves a plausible-looking file behind.
//
// The repository, secret and fingerprint come from the flags or
// PBS_REPOSITORY, PBS_PASSWORD (and its _FD, _FILE, _CMD forms) and
// PBS_FINGERPRINT. The summary line goes to stdout, or to stderr when the
// data does; a failure (a chunk that does not verify included) is one line
// on stderr and exit status 1.
package main
