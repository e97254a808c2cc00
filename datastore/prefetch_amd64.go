//go:build amd64 && !purego

package datastore

// prefetch asks the CPU to bring p into its first-level cache, without
// waiting for it.
//
//go:noescape
func prefetch(p []byte)
