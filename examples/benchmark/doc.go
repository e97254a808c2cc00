// Command benchmark prints the table of `proxmox-backup-client benchmark`
// for this machine and this library: the TLS upload speed to a PBS server
// when a repository is given, then SHA-256, zstd level 1 compression and
// decompression, chunk verification and AES-256-GCM, measured on the same
// test data for the same durations, with the percentages relative to the
// same reference machine, so the two tools can be compared side by side.
//
//	go run ./examples/benchmark [--repository R] [--output-format text|json|json-pretty] [--scale F]
//
// The repository comes from --repository or PBS_REPOSITORY, the secret
// from PBS_PASSWORD (or PBS_PASSWORD_FD, _FILE, _CMD) and the certificate
// fingerprint from --fingerprint or PBS_FINGERPRINT, as for
// proxmox-backup-client. The TLS test opens a benchmark session of the
// group host/benchmark in the root namespace (it needs Datastore.Backup
// on the datastore), posts 4 MiB buffers for 5 seconds with several in
// flight, and ends the session, which leaves no snapshot behind. Without
// a repository the TLS row reads "not tested".
//
// One line per test goes to stderr while it runs; the table (or JSON) goes
// to stdout. --scale multiplies the measuring times (5s for TLS, 1s per
// local test, 3s for compression); smaller values give a quicker, noisier
// figure.
package main
