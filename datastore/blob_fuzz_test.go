package datastore

import (
	"bytes"
	"errors"
	"testing"
)

// formatTestTyped fails the fuzz run when err is not one of the sentinel
// errors wrapped in a *FormatError.
func formatTestTyped(t *testing.T, err error) {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
	for _, s := range []error{ErrBadMagic, ErrChecksum, ErrTruncated, ErrEncrypted, ErrTooLarge,
		ErrDigestMismatch, ErrSizeMismatch, ErrCorrupt, ErrBadIndex, ErrBadManifest, ErrBadName} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error matches no sentinel: %v", err)
}

func FuzzDecodeBlob(f *testing.F) {
	for _, seed := range [][]byte{
		nil,
		[]byte("short"),
		blobTestRaw(BlobUncompressed, []byte("hello")),
		blobTestHostileFrame(4 << 30),
		blobTestHostileFrame(1 << 20),
		append(blobMagicEncrypted[:], make([]byte, 50)...),
	} {
		f.Add(seed, true)
	}
	enc := NewBlobEncoder()
	for _, data := range [][]byte{blobTestText(3000), make([]byte, 5000), formatTestPRNG(5, 300)} {
		blob, err := enc.Encode(nil, data, true)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(blob, false)
	}
	dec := NewBlobDecoder()
	f.Fuzz(func(t *testing.T, blob []byte, fixCRC bool) {
		if fixCRC && len(blob) >= 12 {
			// Reach the payload decoders instead of stopping at the CRC.
			_ = FixBlobCRC(blob)
		}
		out, err := dec.Decode(nil, blob)
		if err != nil {
			formatTestTyped(t, err)
			return
		}
		if len(out) > MaxBlobSize || len(out) > len(blob)*blobMaxRatio {
			t.Fatalf("decoded %d bytes from %d", len(out), len(blob))
		}
		// Whatever decodes re-encodes and decodes to the same data.
		again, err := enc.Encode(nil, out, true)
		if err != nil {
			t.Fatal(err)
		}
		back, err := dec.DecodeChunk(nil, again, ComputeDigest(out), len(out))
		if err != nil || !bytes.Equal(back, out) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}
