package datastore

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
)

// BlobKind is one of the four DataBlob variants (spec 5.1), told apart by
// their 8-byte magic numbers.
type BlobKind uint8

// The DataBlob variants. The zero BlobKind is not a valid kind.
const (
	BlobUncompressed        BlobKind = iota + 1 // plain data
	BlobCompressed                              // one zstd frame
	BlobEncrypted                               // AES-256-GCM ciphertext of the data
	BlobEncryptedCompressed                     // AES-256-GCM ciphertext of a zstd frame
)

// CryptMode is how the files of a backup are protected (spec 8.4), as
// written in manifests ("crypt-mode") and returned by the API.
type CryptMode string

// The crypt modes PBS knows.
const (
	CryptNone     CryptMode = "none"      // plain chunks, unsigned manifest
	CryptEncrypt  CryptMode = "encrypt"   // AES-256-GCM chunks, signed manifest
	CryptSignOnly CryptMode = "sign-only" // plain chunks, signed manifest
)

// Valid reports whether m is one of the three modes PBS knows.
func (m CryptMode) Valid() bool {
	return m == CryptNone || m == CryptEncrypt || m == CryptSignOnly
}

// MaxBlobSize is the largest plain data a blob may hold: the encoder refuses
// more, and the decoder never inflates a payload beyond it.
const MaxBlobSize = 128 << 20

// Header sizes of the two blob layouts.
const (
	blobHeaderSize          = 12 // magic, CRC
	blobEncryptedHeaderSize = 44 // magic, CRC, IV, tag
)

// Magic numbers: the first 8 bytes of SHA-256 over the labels of spec 5.1.
var (
	blobMagicUncompressed        = [8]byte{0x42, 0xab, 0x38, 0x07, 0xbe, 0x83, 0x70, 0xa1}
	blobMagicCompressed          = [8]byte{0x31, 0xb9, 0x58, 0x42, 0x6f, 0xb6, 0xa3, 0x7f}
	blobMagicEncrypted           = [8]byte{0x7b, 0x67, 0x85, 0xbe, 0x22, 0x2d, 0x4c, 0xf0}
	blobMagicEncryptedCompressed = [8]byte{0xe6, 0x59, 0x1b, 0xbf, 0x0b, 0xbf, 0xd8, 0x0b}
)

// The signed ("authenticated") blob variants PBS had until 0.8.10 (spec
// section 10): an HMAC tag instead of encryption. Upstream removed them
// before 1.0 and rejects them as unknown magic; so does this package, but
// it names them in the error.
var (
	blobMagicAuthenticated           = [8]byte{0x1f, 0x87, 0xee, 0xe2, 0x91, 0xce, 0x05, 0x02}
	blobMagicAuthenticatedCompressed = [8]byte{0x7e, 0xa6, 0x0f, 0xbe, 0x91, 0x1f, 0xa9, 0x60}
)

// blobRetiredMagic reports whether magic is one of the retired signed
// variants.
func blobRetiredMagic(magic []byte) bool {
	m := [8]byte(magic[:8])
	return m == blobMagicAuthenticated || m == blobMagicAuthenticatedCompressed
}

// Encrypted reports whether blobs of this kind hold ciphertext.
func (k BlobKind) Encrypted() bool {
	return k == BlobEncrypted || k == BlobEncryptedCompressed
}

// Compressed reports whether the (decrypted) payload is a zstd frame.
func (k BlobKind) Compressed() bool {
	return k == BlobCompressed || k == BlobEncryptedCompressed
}

// CryptMode returns CryptEncrypt for encrypted kinds and CryptNone otherwise,
// as upstream does: a blob cannot tell "sign-only" from "none".
func (k BlobKind) CryptMode() CryptMode {
	if k.Encrypted() {
		return CryptEncrypt
	}
	return CryptNone
}

// HeaderSize is 44 for encrypted kinds and 12 for the others (0 for an
// invalid kind).
func (k BlobKind) HeaderSize() int {
	switch k {
	case BlobUncompressed, BlobCompressed:
		return blobHeaderSize
	case BlobEncrypted, BlobEncryptedCompressed:
		return blobEncryptedHeaderSize
	}
	return 0
}

// String names the kind.
func (k BlobKind) String() string {
	switch k {
	case BlobUncompressed:
		return "uncompressed"
	case BlobCompressed:
		return "compressed"
	case BlobEncrypted:
		return "encrypted"
	case BlobEncryptedCompressed:
		return "encrypted+compressed"
	}
	return "BlobKind(" + strconv.Itoa(int(k)) + ")"
}

// blobMagic returns the magic number of a valid kind.
func (k BlobKind) blobMagic() [8]byte {
	switch k {
	case BlobCompressed:
		return blobMagicCompressed
	case BlobEncrypted:
		return blobMagicEncrypted
	case BlobEncryptedCompressed:
		return blobMagicEncryptedCompressed
	}
	return blobMagicUncompressed
}

// blobKindOf maps a magic number to its kind, or 0 when unknown.
func blobKindOf(magic []byte) BlobKind {
	switch [8]byte(magic[:8]) {
	case blobMagicUncompressed:
		return BlobUncompressed
	case blobMagicCompressed:
		return BlobCompressed
	case blobMagicEncrypted:
		return BlobEncrypted
	case blobMagicEncryptedCompressed:
		return BlobEncryptedCompressed
	}
	return 0
}

// BlobHeader is the decoded fixed part of a DataBlob. IV and Tag are only
// set for encrypted kinds. The CRC covers blob[HeaderSize:].
type BlobHeader struct {
	Kind       BlobKind
	CRC        uint32
	HeaderSize int
	IV         [16]byte
	Tag        [16]byte
}

// ParseBlobHeader checks the magic number and that blob is at least as long
// as the header of its kind, and returns the header fields. It does not
// check the CRC (see CheckBlobCRC).
func ParseBlobHeader(blob []byte) (BlobHeader, error) {
	var h BlobHeader
	if len(blob) < 8 {
		return h, formatErr("blob", int64(len(blob)), ErrTruncated, "shorter than the 8-byte magic")
	}
	h.Kind = blobKindOf(blob)
	if h.Kind == 0 {
		detail := "magic " + blobHex(blob[:8])
		if blobRetiredMagic(blob) {
			detail += " (a signed \"authenticated\" blob of PBS before 0.8.10; no PBS since reads them)"
		}
		return h, formatErr("blob", 0, ErrBadMagic, detail)
	}
	h.HeaderSize = h.Kind.HeaderSize()
	if len(blob) < h.HeaderSize {
		return h, formatErr("blob", int64(len(blob)), ErrTruncated,
			h.Kind.String()+" blob shorter than its "+strconv.Itoa(h.HeaderSize)+"-byte header")
	}
	h.CRC = binary.LittleEndian.Uint32(blob[8:12])
	if h.Kind.Encrypted() {
		copy(h.IV[:], blob[12:28])
		copy(h.Tag[:], blob[28:44])
	}
	return h, nil
}

// CheckBlobCRC verifies the CRC-32 stored at offset 8 against the bytes after
// the header (the ciphertext only, for encrypted blobs). A mismatch is
// ErrChecksum.
func CheckBlobCRC(blob []byte) error {
	h, err := ParseBlobHeader(blob)
	if err != nil {
		return err
	}
	return blobCheckCRC(h, blob)
}

// blobCheckCRC compares the CRC of an already parsed header.
func blobCheckCRC(h BlobHeader, blob []byte) error {
	if got := crcUpdate(0, blob[h.HeaderSize:]); got != h.CRC {
		return formatErr("blob", 8, ErrChecksum,
			"stored CRC "+blobHex32(h.CRC)+", computed "+blobHex32(got))
	}
	return nil
}

// FixBlobCRC recomputes the CRC-32 and writes it into the header in place,
// as the server does for every chunk it stores.
func FixBlobCRC(blob []byte) error {
	h, err := ParseBlobHeader(blob)
	if err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(blob[8:12], crcUpdate(0, blob[h.HeaderSize:]))
	return nil
}

// blobAppendCRC appends src to dst and returns the CRC-32 of src, in one
// pass over memory (crcCopy). A dst whose room overlaps src gets a plain
// append, which handles overlap, and the CRC of what it wrote.
func blobAppendCRC(dst, src []byte) ([]byte, uint32) {
	n := len(dst)
	if blobOverlaps(dst[n:cap(dst)], src) {
		dst = append(dst, src...)
		return dst, crcUpdate(0, dst[n:])
	}
	dst = slices.Grow(dst, len(src))[:n+len(src)]
	return dst, crcCopy(0, dst[n:], src)
}

func blobHex(b []byte) string { return hex.EncodeToString(b) }

func blobHex32(v uint32) string { return fmt.Sprintf("%08x", v) }
