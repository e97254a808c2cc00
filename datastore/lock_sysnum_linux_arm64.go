//go:build linux && arm64

package datastore

// lockSysSyncfs is the number of syncfs(2) on linux/arm64.
const lockSysSyncfs = 267
