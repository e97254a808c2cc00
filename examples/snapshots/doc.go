// Command snapshots lists the snapshots of a PBS datastore namespace, or
// of one group, oldest first within each group:
//
//	snapshots [--repository R] [--ns NS] [--output-format text|json] [GROUP]
//
// GROUP is "TYPE/ID" (e.g. host/web01). The repository, secret and
// fingerprint come from the flags or PBS_REPOSITORY, PBS_PASSWORD (and its
// _FD, _FILE, _CMD forms) and PBS_FINGERPRINT. Text output is one line per
// snapshot (snapshot, size, last verification, protection, files) and a
// count; json is an array of objects.
package main
