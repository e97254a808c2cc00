// Command verify has the PBS server verify backups (every chunk read back
// and checked against its digest, every index against the manifest) and
// reports the outcome per snapshot:
//
//	verify [--repository R] [--ns NS] [--reverify] [SNAPSHOT|GROUP]
//
// SNAPSHOT is "TYPE/ID/TIME" (the last line backup-stream prints), GROUP
// "TYPE/ID"; without one, every group of the namespace and those below it
// is verified. Snapshots verified before are skipped unless --reverify is
// given. The repository, secret and fingerprint come from the flags or
// PBS_REPOSITORY, PBS_PASSWORD (and its _FD, _FILE, _CMD forms) and
// PBS_FINGERPRINT.
//
// stdout gets one line per snapshot ("host/web01/2026-11-22T10:00:00Z ok")
// and a summary; the exit status is 1 when any snapshot failed.
package main
