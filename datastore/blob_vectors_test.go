package datastore

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// formatVectors is the part of ../shared/vectors/formats/format-vectors.json
// this package checks.
type formatVectors struct {
	Key struct {
		EncKeyHex string `json:"enc_key_hex"`
		IDKeyHex  string `json:"id_key_hex"`
	} `json:"key"`
	ChunkDigest struct {
		DataHex     string `json:"data_hex"`
		PlainDigest string `json:"plain_digest"`
	} `json:"chunk_digest"`
	UncompressedBlob struct {
		PayloadHex string `json:"payload_hex"`
		BlobHex    string `json:"blob_hex"`
	} `json:"uncompressed_blob"`
	EncryptedBlob struct {
		IVHex   string `json:"iv_hex"`
		BlobHex string `json:"blob_hex"`
		TagHex  string `json:"tag_hex"`
	} `json:"encrypted_blob"`
	ManifestSignature struct {
		EncKeyHex string          `json:"enc_key_hex"`
		IDKeyHex  string          `json:"id_key_hex"`
		Manifest  json.RawMessage `json:"manifest"`
		Canonical string          `json:"canonical_json_of_signed_part"`
		Signature string          `json:"signature"`
	} `json:"manifest_signature"`
}

func loadFormatVectors(t *testing.T) formatVectors {
	t.Helper()
	raw, err := os.ReadFile(formatTestShared(t, "vectors", "formats", "format-vectors.json"))
	require.NoError(t, err)
	var v formatVectors
	require.NoError(t, json.Unmarshal(raw, &v))
	return v
}

func formatTestUnhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func TestVectorUncompressedBlob(t *testing.T) {
	v := loadFormatVectors(t)
	payload := formatTestUnhex(t, v.UncompressedBlob.PayloadHex)
	want := formatTestUnhex(t, v.UncompressedBlob.BlobHex)

	for _, compress := range []bool{false, true} { // 32 bytes do not compress
		got, err := EncodeBlob(payload, compress)
		require.NoError(t, err)
		assert.Equal(t, want, got, "compress=%v", compress)
	}
	h, err := ParseBlobHeader(want)
	require.NoError(t, err)
	assert.Equal(t, BlobHeader{Kind: BlobUncompressed, CRC: 0x8674a1b1 /* bytes b1 a1 74 86, little-endian */, HeaderSize: 12}, h)
	got, err := DecodeBlob(want)
	require.NoError(t, err)
	assert.Equal(t, payload, got)

	d := formatTestDigest(t, v.ChunkDigest.PlainDigest)
	assert.Equal(t, d, ComputeDigest(formatTestUnhex(t, v.ChunkDigest.DataHex)))
	got, err = NewBlobDecoder().DecodeChunk(nil, want, d, len(payload))
	require.NoError(t, err)
	assert.Equal(t, payload, got)
}

func TestVectorEncryptedBlobRecognised(t *testing.T) {
	v := loadFormatVectors(t)
	blob := formatTestUnhex(t, v.EncryptedBlob.BlobHex)
	h, err := ParseBlobHeader(blob)
	require.NoError(t, err)
	assert.Equal(t, BlobEncrypted, h.Kind)
	assert.Equal(t, 44, h.HeaderSize)
	assert.Equal(t, formatTestUnhex(t, v.EncryptedBlob.IVHex), h.IV[:])
	assert.Equal(t, formatTestUnhex(t, v.EncryptedBlob.TagHex), h.Tag[:])
	assert.True(t, h.Kind.Encrypted())
	assert.False(t, h.Kind.Compressed())
	assert.Equal(t, CryptEncrypt, h.Kind.CryptMode())
	require.NoError(t, CheckBlobCRC(blob), "the CRC covers the ciphertext only")

	_, err = DecodeBlob(blob)
	assert.ErrorIs(t, err, ErrEncrypted)
	var fe *FormatError
	assert.ErrorAs(t, err, &fe)

	// The CRC does not cover IV and tag: changing them keeps it valid.
	mod := append([]byte(nil), blob...)
	mod[12] ^= 0xff
	mod[43] ^= 0xff
	assert.NoError(t, CheckBlobCRC(mod))
	mod[44] ^= 0xff
	assert.ErrorIs(t, CheckBlobCRC(mod), ErrChecksum)
}

func TestVectorManifestSignature(t *testing.T) {
	v := loadFormatVectors(t).ManifestSignature
	m, err := ParseManifest(v.Manifest)
	require.NoError(t, err)
	assert.Equal(t, "host", m.BackupType)
	assert.Equal(t, int64(1593179765), m.BackupTime)
	require.Len(t, m.Files, 2)
	assert.Equal(t, CryptEncrypt, m.Files[0].CryptMode)
	assert.JSONEq(t, `"This is not protected by the signature."`, string(m.Unprotected.Extra["note"]),
		"unknown unprotected members are preserved")

	signed, err := m.SigningBytes()
	require.NoError(t, err)
	assert.Equal(t, v.Canonical, string(signed))

	// Canonicalizing the JSON without unprotected gives the same bytes.
	var obj map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(v.Manifest, &obj))
	delete(obj, "unprotected")
	stripped, err := json.MarshalIndent(obj, "", "    ")
	require.NoError(t, err)
	canon, err := CanonicalJSON(stripped)
	require.NoError(t, err)
	assert.Equal(t, v.Canonical, string(canon))

	// id_key = PBKDF2-HMAC-SHA256(enc_key, "_id_key", 10 rounds) (spec 8.2);
	// the signature is HMAC-SHA256(id_key, canonical JSON): upstream's value.
	idKey, err := pbkdf2.Key(sha256.New, string(formatTestUnhex(t, v.EncKeyHex)), []byte("_id_key"), 10, 32)
	require.NoError(t, err)
	assert.Equal(t, v.IDKeyHex, hex.EncodeToString(idKey))
	sig, err := m.ComputeSignature(idKey)
	require.NoError(t, err)
	assert.Equal(t, v.Signature, sig)
}
