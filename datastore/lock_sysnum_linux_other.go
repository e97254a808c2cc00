//go:build linux && !amd64 && !arm64

package datastore

// lockSysSyncfs is zero where this package does not know the number of
// syncfs(2): SyncFilesystem then falls back to sync(2).
const lockSysSyncfs = 0
