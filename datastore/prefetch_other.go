//go:build !amd64 || purego

package datastore

// prefetch does nothing here: there is no assembly for this architecture
// (or the purego tag asks for none), and the hash reads p as it comes.
func prefetch([]byte) {}
