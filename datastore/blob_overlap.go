package datastore

import "unsafe"

// blobOverlaps reports whether the capacity of dst shares memory with the
// data of src: an encoder appending to dst[:0] would then overwrite its
// own input. (The test of crypto/internal/alias, on capacity: appending
// writes past len(dst).)
func blobOverlaps(dst, src []byte) bool {
	if cap(dst) == 0 || len(src) == 0 {
		return false
	}
	d := uintptr(unsafe.Pointer(unsafe.SliceData(dst)))
	s := uintptr(unsafe.Pointer(unsafe.SliceData(src)))
	return d < s+uintptr(len(src)) && s < d+uintptr(cap(dst))
}

// blobOwnDst is dst, or nil when dst overlaps src, so that a caller who
// passes back a blob that aliases its input gets a fresh buffer instead of
// a corrupted blob.
func blobOwnDst(dst, src []byte) []byte {
	if blobOverlaps(dst, src) {
		return nil
	}
	return dst
}
