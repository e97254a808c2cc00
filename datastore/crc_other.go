//go:build !amd64 || purego

package datastore

// crcHasFold is false: there is no vector loop for this architecture (or
// the purego tag asks for none), and hash/crc32 does the work.
const crcHasFold = false

// crcFold and crcFoldCopy are never called without crcHasFold.
func crcFold(uint32, []byte, *[64]byte) {}

func crcFoldCopy(uint32, []byte, []byte, *[64]byte) {}
