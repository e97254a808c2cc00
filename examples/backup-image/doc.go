// Command backup-image backs up a disk image or block device to PBS as a
// fixed archive of 4 MiB chunks, the layout Proxmox VE's own VM backups
// use; all-zero chunks are sent once and unchanged chunks of the previous
// snapshot's image are not sent again:
//
//	backup-image [--repository R] [--ns NS] [--backup-type T] [--backup-id ID] [--backup-time T] ARCHIVE FILE
//
// FILE is stored as ARCHIVE.fidx; name ARCHIVE like PBS does, e.g.
// drive-scsi0.img or disk.img. The repository, secret and fingerprint come
// from the flags or PBS_REPOSITORY, PBS_PASSWORD (and its _FD, _FILE, _CMD
// forms) and PBS_FINGERPRINT.
//
// stdout gets a summary line and, alone on the last line, the new snapshot
// as TYPE/ID/TIME, which restore takes. On failure nothing is left on the
// server, stderr has one line and the exit status is 1.
package main
