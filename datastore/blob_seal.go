package datastore

import "strconv"

// BlobHeaderSize is the length of the header of an unencrypted blob (magic
// and CRC-32): an uncompressed blob is its data behind such a header.
const BlobHeaderSize = blobHeaderSize

// SealUncompressed makes buf an uncompressed DataBlob in place. The data
// must already sit at buf[BlobHeaderSize:]; the magic and CRC are written
// into the first BlobHeaderSize bytes. The result is what
// Encode(dst, data, false) returns, without copying the data, for writers
// that read chunks straight into their upload buffers.
func SealUncompressed(buf []byte) error {
	if err := blobSealCheck(buf); err != nil {
		return err
	}
	blobSeal(buf, BlobUncompressed)
	return nil
}

// blobSealCheck refuses buffers SealUncompressed cannot seal.
func blobSealCheck(buf []byte) error {
	if len(buf) < blobHeaderSize {
		return formatErr("blob", 0, ErrTruncated, strconv.Itoa(len(buf))+" bytes leave no room for the header")
	}
	if n := len(buf) - blobHeaderSize; n > MaxBlobSize {
		return formatErr("blob", -1, ErrTooLarge, strconv.Itoa(n)+" bytes of data, the limit is "+strconv.Itoa(MaxBlobSize))
	}
	return nil
}
