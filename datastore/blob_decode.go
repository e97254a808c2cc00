package datastore

import (
	"errors"
	"strconv"

	"github.com/klauspost/compress/zstd"
)

// blobMaxRatio bounds how much one payload byte can inflate to: the densest
// zstd block is an RLE block, 4 bytes (3 header + 1) for 128 KiB of output.
// A frame claiming more than this per input byte is corrupt, so the decoder
// never allocates on the word of a frame header beyond what the input could
// really produce.
const blobMaxRatio = (128 << 10) / 4

// BlobDecoder decodes DataBlobs, reusing one zstd decoder across calls. It is
// not safe for concurrent use: give each worker its own.
//
// Encrypted blobs are recognised (ParseBlobHeader reads IV and tag) but not
// decrypted yet: decoding them fails with ErrEncrypted after the CRC check.
// Keys will come in as options of NewBlobDecoder.
type BlobDecoder struct {
	zdec *zstd.Decoder // created on the first compressed blob
	sum  PayloadSum    // for DecodeChunkView of an uncompressed chunk
}

// NewBlobDecoder returns a decoder for unencrypted blobs.
func NewBlobDecoder() *BlobDecoder {
	return &BlobDecoder{}
}

// Decode verifies the blob's CRC and appends its plain data to dst[:0]. The
// result never exceeds MaxBlobSize. Errors are *FormatError values matching
// ErrBadMagic, ErrTruncated, ErrChecksum, ErrEncrypted, ErrTooLarge or
// ErrCorrupt.
func (d *BlobDecoder) Decode(dst, blob []byte) ([]byte, error) {
	return d.blobDecode(dst, blob, MaxBlobSize, false)
}

// DecodeChunk decodes a chunk like Decode and then checks that the data has
// wantSize bytes (unless wantSize < 0) and that its SHA-256 is want. With a
// wantSize, a compressed chunk is decoded straight into a buffer of that
// size, and one whose frame header promises more is refused before
// decoding. Mismatches are ErrSizeMismatch and ErrDigestMismatch. Encrypted
// chunks fail with ErrEncrypted: their digests are keyed.
func (d *BlobDecoder) DecodeChunk(dst, blob []byte, want Digest, wantSize int) ([]byte, error) {
	limit := MaxBlobSize
	if wantSize >= 0 {
		limit = min(wantSize, MaxBlobSize)
	}
	out, err := d.blobDecode(dst, blob, limit, wantSize >= 0)
	if err != nil {
		var fe *FormatError
		if wantSize >= 0 && errors.As(err, &fe) && fe.Err == ErrTooLarge {
			err = blobMoreThanWanted(wantSize)
		}
		return out, err
	}
	if wantSize >= 0 && len(out) != wantSize {
		return out, blobSizeMismatch(len(out), wantSize)
	}
	if got := ComputeDigest(out); got != want {
		return out, blobDigestMismatch(got, want)
	}
	return out, nil
}

// blobDecode decodes into dst[:0], producing at most limit bytes; sized
// says that limit is the expected size, not just a ceiling.
func (d *BlobDecoder) blobDecode(dst, blob []byte, limit int, sized bool) ([]byte, error) {
	dst = dst[:0]
	h, err := ParseBlobHeader(blob)
	if err != nil {
		return dst, err
	}
	payload := blob[h.HeaderSize:]
	if h.Kind == BlobUncompressed {
		if len(payload) > limit {
			if err := blobCheckCRC(h, blob); err != nil {
				return dst, err
			}
			return dst, blobTooLarge(len(payload), limit)
		}
		out, crc := blobAppendCRC(dst, payload)
		if crc != h.CRC {
			return dst, blobCheckCRC(h, blob)
		}
		return out, nil
	}
	if err := blobCheckCRC(h, blob); err != nil {
		return dst, err
	}
	switch h.Kind {
	case BlobCompressed:
		return d.blobInflate(dst, payload, limit, sized)
	default:
		return dst, formatErr("blob", 0, ErrEncrypted, h.Kind.String()+" blob needs a key")
	}
}

// blobInflate decodes one or more zstd frames into dst, refusing frame
// headers that promise more than limit or more than the payload can hold.
// When sized, limit is the expected size and dst gets that capacity up
// front; otherwise it grows with the output. Either way the output is
// bounded by MaxBlobSize and by what the payload can really expand to.
func (d *BlobDecoder) blobInflate(dst, payload []byte, limit int, sized bool) ([]byte, error) {
	if len(payload) == 0 {
		// Upstream's streaming decoder fails with "incomplete frame" too.
		return dst, formatErr("blob", blobHeaderSize, ErrCorrupt, "compressed blob without a zstd frame")
	}
	var zh zstd.Header
	if err := zh.Decode(payload); err != nil {
		return dst, formatErr("blob", blobHeaderSize, ErrCorrupt, "zstd frame header: "+err.Error())
	}
	bound := min(uint64(limit), uint64(len(payload))*blobMaxRatio)
	if zh.HasFCS {
		switch {
		case zh.FrameContentSize > uint64(limit):
			return dst, blobTooLarge64(zh.FrameContentSize, limit)
		case zh.FrameContentSize > bound:
			return dst, formatErr("blob", blobHeaderSize, ErrCorrupt,
				"zstd frame claims "+strconv.FormatUint(zh.FrameContentSize, 10)+" bytes from a "+
					strconv.Itoa(len(payload))+"-byte payload")
		}
	}
	zdec, err := d.blobZstd()
	if err != nil {
		return dst, err
	}
	if sized && uint64(cap(dst)) < bound+blobDecodeSlack {
		// The decoder's fast paths want a little room behind the output.
		dst = make([]byte, 0, bound+blobDecodeSlack)
	}
	out, err := zdec.DecodeAll(payload, dst)
	if err != nil {
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
			return dst, blobTooLarge(len(out), limit)
		}
		return dst, formatErr("blob", blobHeaderSize, ErrCorrupt, "zstd: "+err.Error())
	}
	if len(out) > limit {
		return dst, blobTooLarge(len(out), limit)
	}
	return out, nil
}

// blobDecodeSlack is the spare capacity given to sized outputs.
const blobDecodeSlack = 64

// blobZstd returns the decoder's zstd decoder, creating it on first use.
func (d *BlobDecoder) blobZstd() (*zstd.Decoder, error) {
	if d.zdec != nil {
		return d.zdec, nil
	}
	// Concurrency 1 starts no goroutines, so an abandoned BlobDecoder needs
	// no Close. MaxMemory bounds every DecodeAll at MaxBlobSize, whatever
	// the frame claims.
	zdec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(MaxBlobSize),
		zstd.WithDecoderLowmem(true),
	)
	if err != nil {
		return nil, formatErr("blob", -1, ErrCorrupt, "zstd decoder: "+err.Error())
	}
	d.zdec = zdec
	return zdec, nil
}

func blobTooLarge(n, limit int) error {
	return formatErr("blob", -1, ErrTooLarge,
		"decodes to more than "+strconv.Itoa(limit)+" bytes (at least "+strconv.Itoa(n)+")")
}

func blobTooLarge64(n uint64, limit int) error {
	return formatErr("blob", -1, ErrTooLarge,
		"zstd frame claims "+strconv.FormatUint(n, 10)+" bytes, the limit is "+strconv.Itoa(limit))
}

// DecodeBlob decodes a blob with a new BlobDecoder. Prefer a long-lived
// BlobDecoder when decoding many blobs.
func DecodeBlob(blob []byte) ([]byte, error) {
	return NewBlobDecoder().Decode(nil, blob)
}
