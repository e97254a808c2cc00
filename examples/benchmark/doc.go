// Command benchmark prints the table of `proxmox-backup-client benchmark`
// for this machine and this library: SHA-256, zstd level 1 compression and
// decompression, chunk verification and AES-256-GCM, measured on the same
// 1 MiB test buffer for the same durations, with the percentages relative
// to the same reference machine, so the two tools can be compared side by
// side.
//
//	go run ./examples/benchmark [--output-format text|json|json-pretty] [--scale F]
//
// One line per test goes to stderr while it runs; the table (or JSON) goes
// to stdout. --scale multiplies the measuring times (1s per test, 3s for
// compression); smaller values give a quicker, noisier figure.
package main
