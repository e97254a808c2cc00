//go:build linux && amd64

package datastore

// lockSysSyncfs is the number of syncfs(2) on linux/amd64.
const lockSysSyncfs = 306
