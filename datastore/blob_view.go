package datastore

import (
	"strconv"
)

// SealUncompressedDigest is SealUncompressed that also returns the digest
// of the data (ComputeDigest(buf[BlobHeaderSize:])), hashed in the same
// pass over the data as its CRC: for writers that hash a chunk and send
// it uncompressed.
func SealUncompressedDigest(buf []byte) (Digest, error) {
	if err := blobSealCheck(buf); err != nil {
		return Digest{}, err
	}
	var sum PayloadSum
	_, _ = sum.Write(buf[blobHeaderSize:])
	d, crc := sum.Sum()
	blobSealCRC(buf, BlobUncompressed, crc)
	return d, nil
}

// DecodeChunkView decodes a chunk like DecodeChunk, with the same checks
// and errors, but without copying an uncompressed chunk: its data is
// returned as the view blob[BlobHeaderSize:], valid as long as blob is
// (the CRC and the digest are checked in one pass over it). A compressed
// chunk is decoded into dst[:0] as DecodeChunk does. For readers that
// keep the downloaded or read blob anyway, and for servers that verify an
// upload before storing it unchanged.
func (d *BlobDecoder) DecodeChunkView(dst, blob []byte, want Digest, wantSize int) ([]byte, error) {
	h, err := ParseBlobHeader(blob)
	if err != nil {
		return dst[:0], err
	}
	if h.Kind != BlobUncompressed {
		return d.DecodeChunk(dst, blob, want, wantSize)
	}
	payload := blob[h.HeaderSize:]
	if sizeErr := blobViewSize(len(payload), wantSize); sizeErr != nil {
		// As DecodeChunk: a bad CRC is reported before the size.
		if err := blobCheckCRC(h, blob); err != nil {
			return dst[:0], err
		}
		return dst[:0], sizeErr
	}
	d.sum.Reset()
	_, _ = d.sum.Write(payload)
	got, crc := d.sum.Sum()
	if crc != h.CRC {
		return dst[:0], blobCheckCRC(h, blob)
	}
	if got != want {
		return dst[:0], blobDigestMismatch(got, want)
	}
	return payload, nil
}

// DecodeView decodes a blob like Decode, with the same checks and errors,
// but without copying an uncompressed blob: its data is returned as the
// view blob[BlobHeaderSize:] once its CRC is checked, valid as long as
// blob is. A compressed blob is decoded into dst[:0] as Decode does.
func (d *BlobDecoder) DecodeView(dst, blob []byte) ([]byte, error) {
	h, err := ParseBlobHeader(blob)
	if err != nil {
		return dst[:0], err
	}
	if h.Kind != BlobUncompressed {
		return d.Decode(dst, blob)
	}
	if err := blobCheckCRC(h, blob); err != nil {
		return dst[:0], err
	}
	if payload := blob[h.HeaderSize:]; len(payload) <= MaxBlobSize {
		return payload, nil
	}
	return dst[:0], blobTooLarge(len(blob)-h.HeaderSize, MaxBlobSize)
}

// blobViewSize returns the error DecodeChunk gives for an uncompressed
// payload of n bytes when wantSize (or, without one, MaxBlobSize) rules
// it out, else nil.
func blobViewSize(n, wantSize int) error {
	switch {
	case wantSize < 0:
		if n > MaxBlobSize {
			return blobTooLarge(n, MaxBlobSize)
		}
	case n > min(wantSize, MaxBlobSize):
		return blobMoreThanWanted(wantSize)
	case n != wantSize:
		return blobSizeMismatch(n, wantSize)
	}
	return nil
}

// The mismatch errors of DecodeChunk and DecodeChunkView.

func blobMoreThanWanted(wantSize int) error {
	return formatErr("blob", -1, ErrSizeMismatch, "chunk holds more than the expected "+strconv.Itoa(wantSize)+" bytes")
}

func blobSizeMismatch(got, wantSize int) error {
	return formatErr("chunk", -1, ErrSizeMismatch, "got "+strconv.Itoa(got)+" bytes, want "+strconv.Itoa(wantSize))
}

func blobDigestMismatch(got, want Digest) error {
	return formatErr("chunk", -1, ErrDigestMismatch, "data hashes to "+got.String()+", want "+want.String())
}
