// Command backup-stream backs up a stream (stdin or a file) to PBS as a
// dynamic archive, chunked exactly as proxmox-backup-client chunks, so
// that unchanged data is not uploaded again by the next run:
//
//	pg_dump mydb | backup-stream db.sql
//	backup-stream [--repository R] [--ns NS] [--backup-type T] [--backup-id ID] [--backup-time T] ARCHIVE [FILE]
//
// FILE (or stdin, also for "-") is stored as ARCHIVE.didx in a new
// snapshot of group TYPE/ID (default host/<host name>). The repository,
// secret and fingerprint come from the flags or PBS_REPOSITORY,
// PBS_PASSWORD (and its _FD, _FILE, _CMD forms) and PBS_FINGERPRINT.
//
// stdout gets a summary line and, alone on the last line, the new snapshot
// as TYPE/ID/TIME (e.g. host/web01/2026-11-22T10:00:00Z), which restore
// takes. On failure nothing is left on the server, stderr has one line
// and the exit status is 1.
package main
