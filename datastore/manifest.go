package datastore

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Manifest is a snapshot's index.json (spec 5.5): which snapshot it is, the
// archives it holds with their checksums, a signature when a key was used,
// and the "unprotected" member the server updates after the backup.
type Manifest struct {
	BackupType  string         // "vm", "ct" or "host"
	BackupID    string         // the group's id
	BackupTime  int64          // Unix seconds
	Files       []ManifestFile // in the order the client added them
	Unprotected Unprotected    // not covered by the signature
	Signature   string         // hex HMAC-SHA256; "" is JSON null (no key)
}

// ManifestFile is one archive of a snapshot. For indexes Size is the plain
// data size and Csum the index checksum; for blobs Size is the length of the
// encoded file and Csum its SHA-256.
type ManifestFile struct {
	Filename  string    // server-side archive name, e.g. "disk.img.fidx"
	CryptMode CryptMode // "" is written as "none"
	Size      uint64
	Csum      string // 64 lowercase hex
}

// CsumDigest returns Csum as 32 bytes.
func (f ManifestFile) CsumDigest() (Digest, error) {
	return ParseDigest(f.Csum)
}

// File returns the entry for filename.
func (m *Manifest) File(name string) (ManifestFile, bool) {
	for _, f := range m.Files {
		if f.Filename == name {
			return f, true
		}
	}
	return ManifestFile{}, false
}

// Snapshot returns the snapshot the manifest describes.
func (m *Manifest) Snapshot() (Snapshot, error) {
	g := Group{Type: BackupType(m.BackupType), ID: m.BackupID}
	if err := g.Validate(); err != nil {
		return Snapshot{}, err
	}
	return Snapshot{Group: g, Time: unixUTC(m.BackupTime)}, nil
}

func manifestErr(detail string) error {
	return formatErr("manifest", -1, ErrBadManifest, detail)
}

// ParseManifest parses manifest JSON as upstream's deserializer does:
// backup-type, backup-id, backup-time and files are required; crypt-mode
// defaults to "none", unprotected to {}, signature to null; unknown
// top-level and file members are ignored, unknown unprotected members are
// kept in Unprotected.Extra. Csums are accepted in either case and kept in
// lowercase. Errors match ErrBadManifest.
func ParseManifest(jsonBytes []byte) (*Manifest, error) {
	v, err := cjParse(jsonBytes)
	if err != nil {
		return nil, err
	}
	if v.kind != cjObject {
		return nil, manifestErr("not a JSON object")
	}
	m := &Manifest{}
	ty, err := manifestString(v, "backup-type", true)
	if err != nil {
		return nil, err
	}
	if !BackupType(ty).Valid() {
		return nil, manifestErr("invalid backup-type " + strconv.Quote(ty))
	}
	m.BackupType = ty
	if m.BackupID, err = manifestString(v, "backup-id", true); err != nil {
		return nil, err
	}
	t, ok := v.cjGet("backup-time")
	if !ok || t.kind != cjNumber {
		return nil, manifestErr("backup-time missing or not a number")
	}
	if m.BackupTime, err = strconv.ParseInt(t.s, 10, 64); err != nil {
		return nil, manifestErr("backup-time " + t.s + " is not a 64-bit integer")
	}
	files, ok := v.cjGet("files")
	if !ok || files.kind != cjArray {
		return nil, manifestErr("files missing or not an array")
	}
	m.Files = make([]ManifestFile, 0, len(files.arr))
	for i, fv := range files.arr {
		f, err := manifestParseFile(fv)
		if err != nil {
			err.(*FormatError).Detail = "files[" + strconv.Itoa(i) + "]: " + err.(*FormatError).Detail
			return nil, err
		}
		m.Files = append(m.Files, f)
	}
	if u, ok := v.cjGet("unprotected"); ok && u.kind != cjNull {
		if u.kind != cjObject {
			return nil, manifestErr("unprotected is not an object")
		}
		m.Unprotected = unprotectedFromJSON(u)
	}
	if sig, ok := v.cjGet("signature"); ok && sig.kind != cjNull {
		if sig.kind != cjString {
			return nil, manifestErr("signature is neither a string nor null")
		}
		m.Signature = sig.s
	}
	return m, nil
}

// manifestString returns a string member; a missing one is "" unless required.
func manifestString(v cjValue, key string, required bool) (string, error) {
	s, ok := v.cjGet(key)
	if !ok {
		if required {
			return "", manifestErr(key + " missing")
		}
		return "", nil
	}
	if s.kind != cjString {
		return "", manifestErr(key + " is not a string")
	}
	return s.s, nil
}

func manifestParseFile(v cjValue) (ManifestFile, error) {
	var f ManifestFile
	if v.kind != cjObject {
		return f, manifestErr("not an object")
	}
	var err error
	if f.Filename, err = manifestString(v, "filename", true); err != nil {
		return f, err
	}
	mode, err := manifestString(v, "crypt-mode", false)
	if err != nil {
		return f, err
	}
	f.CryptMode = CryptNone // missing in manifests older than PBS 0.8
	if mode != "" {
		if f.CryptMode = CryptMode(mode); !f.CryptMode.Valid() {
			return f, manifestErr("invalid crypt-mode " + strconv.Quote(mode))
		}
	}
	size, ok := v.cjGet("size")
	if !ok || size.kind != cjNumber {
		return f, manifestErr("size missing or not a number")
	}
	if f.Size, err = strconv.ParseUint(size.s, 10, 64); err != nil {
		return f, manifestErr("size " + size.s + " is not an unsigned 64-bit integer")
	}
	csum, err := manifestString(v, "csum", true)
	if err != nil {
		return f, err
	}
	if f.Csum, err = manifestCsum(csum); err != nil {
		return f, err
	}
	return f, nil
}

// manifestCsum checks 64 hex characters of either case (upstream's hex
// decoder accepts both) and returns them in lowercase.
func manifestCsum(s string) (string, error) {
	if len(s) != 64 {
		return "", manifestErr("csum " + strconv.Quote(s) + " is not 64 hex characters")
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", manifestErr("csum " + strconv.Quote(s) + " is not hex")
	}
	return strings.ToLower(s), nil
}

// DecodeManifestBlob decodes an index.json.blob (CRC checked; manifests are
// never encrypted) and parses the JSON.
func DecodeManifestBlob(blob []byte) (*Manifest, error) {
	data, err := DecodeBlob(blob)
	if err != nil {
		return nil, err
	}
	return ParseManifest(data)
}

// UnmarshalJSON parses like ParseManifest, so encoding/json can embed manifests.
func (m *Manifest) UnmarshalJSON(b []byte) error {
	parsed, err := ParseManifest(b)
	if err != nil {
		return err
	}
	*m = *parsed
	return nil
}

// MarshalJSON writes the manifest as upstream does: pretty-printed with two
// spaces, every object's keys in alphabetical order, signature null when
// empty, no trailing newline. Parsing and re-marshaling a manifest written
// by PBS gives its bytes back.
func (m *Manifest) MarshalJSON() ([]byte, error) {
	v, err := m.manifestValue(true)
	if err != nil {
		return nil, err
	}
	return cjAppendPretty(nil, v, 0), nil
}

// SigningBytes returns what the signature covers: the canonical JSON
// (spec 5.6) of the manifest without unprotected and signature.
func (m *Manifest) SigningBytes() ([]byte, error) {
	v, err := m.manifestValue(false)
	if err != nil {
		return nil, err
	}
	return cjAppendCanonical(nil, v)
}

// ComputeSignature returns the manifest signature for the given id_key
// (the 32-byte key derived from an encryption key, spec 8.2): hex
// HMAC-SHA256 over SigningBytes. Deriving id_key is left to the key
// handling code; compare the result with Signature using hmac.Equal on the
// decoded bytes or a plain string comparison of the hex.
func (m *Manifest) ComputeSignature(idKey []byte) (string, error) {
	msg, err := m.SigningBytes()
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, idKey)
	mac.Write(msg)
	return hex.EncodeToString(mac.Sum(nil)), nil
}

// EncodeBlob marshals the manifest and encodes it as a compressed,
// unencrypted blob, as index.json.blob is stored. A nil enc uses a
// temporary encoder.
func (m *Manifest) EncodeBlob(enc *BlobEncoder) ([]byte, error) {
	data, err := m.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if enc == nil {
		enc = NewBlobEncoder()
	}
	return enc.Encode(nil, data, true)
}

// manifestValue builds the JSON value of the manifest, with or without
// the unprotected and signature members.
func (m *Manifest) manifestValue(full bool) (cjValue, error) {
	if !BackupType(m.BackupType).Valid() {
		return cjValue{}, manifestErr("invalid backup-type " + strconv.Quote(m.BackupType))
	}
	files := cjValue{kind: cjArray, arr: make([]cjValue, 0, len(m.Files))}
	for _, f := range m.Files {
		mode := f.CryptMode
		if mode == "" {
			mode = CryptNone
		}
		if !mode.Valid() {
			return cjValue{}, manifestErr(f.Filename + ": invalid crypt-mode " + strconv.Quote(string(mode)))
		}
		csum, err := manifestCsum(f.Csum)
		if err != nil {
			return cjValue{}, err
		}
		files.arr = append(files.arr, cjObj(
			cjMember{"crypt-mode", cjStr(string(mode))},
			cjMember{"csum", cjStr(csum)},
			cjMember{"filename", cjStr(f.Filename)},
			cjMember{"size", cjUint(f.Size)},
		))
	}
	v := cjObj(
		cjMember{"backup-id", cjStr(m.BackupID)},
		cjMember{"backup-time", cjValue{kind: cjNumber, s: strconv.FormatInt(m.BackupTime, 10)}},
		cjMember{"backup-type", cjStr(m.BackupType)},
		cjMember{"files", files},
	)
	if !full {
		return v, nil
	}
	u, err := m.Unprotected.unprotectedValue()
	if err != nil {
		return cjValue{}, err
	}
	v.obj = cjSet(v.obj, "unprotected", u)
	sig := cjValue{kind: cjNull}
	if m.Signature != "" {
		sig = cjStr(m.Signature)
	}
	v.obj = cjSet(v.obj, "signature", sig)
	return v, nil
}
