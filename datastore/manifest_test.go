package datastore

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func manifestTestFull() *Manifest {
	return &Manifest{
		BackupType: "vm",
		BackupID:   "100",
		BackupTime: 1763800000,
		Files: []ManifestFile{
			{Filename: "qemu-server.conf.blob", CryptMode: CryptSignOnly, Size: 412, Csum: strings.Repeat("ab", 32)},
			{Filename: "drive-scsi0.img.fidx", Size: 34359738368, Csum: strings.Repeat("01", 32)},
		},
		Unprotected: Unprotected{
			KeyFingerprint:   "0e:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:15:9b",
			ChunkUploadStats: &UploadStats{Count: 5, Size: 10799066, CompressedSize: 10798754, Duplicates: 1},
			VerifyState:      &VerifyState{UPID: "UPID:pbs:0000:verify", State: "ok"},
			Notes:            "first line\nsecond \"line\"",
			Extra:            map[string]json.RawMessage{"zz-extra": json.RawMessage(`{"b":[1,{}],"a":[]}`)},
		},
		Signature: strings.Repeat("cd", 32),
	}
}

const manifestTestFullJSON = `{
  "backup-id": "100",
  "backup-time": 1763800000,
  "backup-type": "vm",
  "files": [
    {
      "crypt-mode": "sign-only",
      "csum": "abababababababababababababababababababababababababababababababab",
      "filename": "qemu-server.conf.blob",
      "size": 412
    },
    {
      "crypt-mode": "none",
      "csum": "0101010101010101010101010101010101010101010101010101010101010101",
      "filename": "drive-scsi0.img.fidx",
      "size": 34359738368
    }
  ],
  "signature": "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
  "unprotected": {
    "chunk_upload_stats": {
      "compressed_size": 10798754,
      "count": 5,
      "duplicates": 1,
      "size": 10799066
    },
    "key-fingerprint": "0e:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:15:9b",
    "notes": "first line\nsecond \"line\"",
    "verify_state": {
      "state": "ok",
      "upid": "UPID:pbs:0000:verify"
    },
    "zz-extra": {
      "a": [],
      "b": [
        1,
        {}
      ]
    }
  }
}`

func TestManifestMarshalLikeUpstream(t *testing.T) {
	m := manifestTestFull()
	out, err := m.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, manifestTestFullJSON, string(out))

	back, err := ParseManifest(out)
	require.NoError(t, err)
	m.Files[1].CryptMode = CryptNone // "" is written as "none"
	m.Unprotected.Extra["zz-extra"] = json.RawMessage(`{
      "a": [],
      "b": [
        1,
        {}
      ]
    }`) // kept verbatim as it appeared in the input
	assert.Equal(t, m, back)

	// encoding/json goes through the same code.
	viaJSON, err := json.Marshal(m)
	require.NoError(t, err)
	assert.JSONEq(t, manifestTestFullJSON, string(viaJSON))
	var m2 Manifest
	require.NoError(t, json.Unmarshal([]byte(manifestTestFullJSON), &m2))
	assert.Equal(t, m.Files, m2.Files)

	f, ok := m.File("drive-scsi0.img.fidx")
	assert.True(t, ok)
	assert.Equal(t, uint64(34359738368), f.Size)
	d, err := f.CsumDigest()
	require.NoError(t, err)
	assert.Equal(t, Digest{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, d)
	_, ok = m.File("nope.blob")
	assert.False(t, ok)
}

func TestManifestSigningBytesIgnoreUnprotected(t *testing.T) {
	m := manifestTestFull()
	a, err := m.SigningBytes()
	require.NoError(t, err)
	m.Unprotected = Unprotected{Notes: "changed"}
	m.Signature = ""
	b, err := m.SigningBytes()
	require.NoError(t, err)
	assert.Equal(t, string(a), string(b))
	assert.Equal(t, `{"backup-id":"100","backup-time":1763800000,"backup-type":"vm","files":[`+
		`{"crypt-mode":"sign-only","csum":"`+strings.Repeat("ab", 32)+`","filename":"qemu-server.conf.blob","size":412},`+
		`{"crypt-mode":"none","csum":"`+strings.Repeat("01", 32)+`","filename":"drive-scsi0.img.fidx","size":34359738368}]}`, string(a))
	sig1, err := m.ComputeSignature([]byte("key one"))
	require.NoError(t, err)
	sig2, err := m.ComputeSignature([]byte("key two"))
	require.NoError(t, err)
	assert.Len(t, sig1, 64)
	assert.NotEqual(t, sig1, sig2)
}

func TestParseManifestDefaults(t *testing.T) {
	m, err := ParseManifest([]byte(`{"backup-type":"ct","backup-id":"a","backup-time":-5,"files":[
		{"filename":"old.pxar.didx","size":0,"csum":"` + strings.Repeat("AB", 32) + `","future":1}],
		"something-new":{"x":1}}`))
	require.NoError(t, err)
	assert.Equal(t, CryptNone, m.Files[0].CryptMode, "pre-0.8 manifests have no crypt-mode")
	assert.Equal(t, strings.Repeat("ab", 32), m.Files[0].Csum, "csum kept in lowercase")
	assert.Equal(t, int64(-5), m.BackupTime)
	assert.Empty(t, m.Signature)
	assert.Equal(t, Unprotected{}, m.Unprotected)
	out, err := m.MarshalJSON()
	require.NoError(t, err)
	assert.Contains(t, string(out), `"unprotected": {}`)
	assert.Contains(t, string(out), `"signature": null`)
	assert.NotContains(t, string(out), "something-new", "unknown top-level members are dropped, as upstream does")

	m, err = ParseManifest([]byte(`{"backup-type":"host","backup-id":"a","backup-time":1,"files":[],"unprotected":null,"signature":null}`))
	require.NoError(t, err)
	assert.Empty(t, m.Files)
}

// TestManifestUnprotectedKeepsOddMembers: known members whose value does not
// fit the typed field stay in Extra, so a rewrite loses nothing.
func TestManifestUnprotectedKeepsOddMembers(t *testing.T) {
	in := `{"backup-type":"host","backup-id":"a","backup-time":1,"files":[],"unprotected":{
		"notes":"",
		"key-fingerprint":5,
		"verify_state":{"state":"ok","upid":"U","extra":true},
		"chunk_upload_stats":{"count":1,"size":2,"compressed_size":3},
		"note":"not notes"}}`
	m, err := ParseManifest([]byte(in))
	require.NoError(t, err)
	u := m.Unprotected
	assert.Empty(t, u.Notes)
	assert.Empty(t, u.KeyFingerprint)
	assert.Nil(t, u.VerifyState)
	assert.Nil(t, u.ChunkUploadStats)
	assert.Len(t, u.Extra, 5)
	out, err := m.MarshalJSON()
	require.NoError(t, err)
	again, err := ParseManifest(out)
	require.NoError(t, err)
	want, err := CanonicalJSON([]byte(`{"notes":"","key-fingerprint":5,"verify_state":{"state":"ok","upid":"U","extra":true},
		"chunk_upload_stats":{"count":1,"size":2,"compressed_size":3},"note":"not notes"}`))
	require.NoError(t, err)
	got, err := again.Unprotected.unprotectedValue()
	require.NoError(t, err)
	gotCanon, err := cjAppendCanonical(nil, got)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(gotCanon))

	// Typed fields win over an Extra member of the same name.
	m.Unprotected.Notes = "typed"
	out, err = m.MarshalJSON()
	require.NoError(t, err)
	again, err = ParseManifest(out)
	require.NoError(t, err)
	assert.Equal(t, "typed", again.Unprotected.Notes)
}

func TestParseManifestErrors(t *testing.T) {
	csum := `"` + strings.Repeat("00", 32) + `"`
	file := func(members string) string {
		return `{"backup-type":"host","backup-id":"a","backup-time":1,"files":[{` + members + `}]}`
	}
	for _, in := range []string{
		``, `[]`, `"x"`, `{}`, `{"backup-type":"host"`,
		`{"backup-type":"vz","backup-id":"a","backup-time":1,"files":[]}`,
		`{"backup-type":1,"backup-id":"a","backup-time":1,"files":[]}`,
		`{"backup-type":"host","backup-time":1,"files":[]}`,
		`{"backup-type":"host","backup-id":"a","backup-time":1.5,"files":[]}`,
		`{"backup-type":"host","backup-id":"a","backup-time":"1","files":[]}`,
		`{"backup-type":"host","backup-id":"a","backup-time":9223372036854775808,"files":[]}`,
		`{"backup-type":"host","backup-id":"a","backup-time":1}`,
		`{"backup-type":"host","backup-id":"a","backup-time":1,"files":{}}`,
		`{"backup-type":"host","backup-id":"a","backup-time":1,"files":[1]}`,
		`{"backup-type":"host","backup-id":"a","backup-time":1,"files":[],"unprotected":[]}`,
		`{"backup-type":"host","backup-id":"a","backup-time":1,"files":[],"signature":1}`,
		file(`"size":1,"csum":` + csum),
		file(`"filename":"a.blob","csum":` + csum),
		file(`"filename":"a.blob","size":-1,"csum":` + csum),
		file(`"filename":"a.blob","size":1.0,"csum":` + csum),
		file(`"filename":"a.blob","size":1`),
		file(`"filename":"a.blob","size":1,"csum":"abc"`),
		file(`"filename":"a.blob","size":1,"csum":"` + strings.Repeat("zz", 32) + `"`),
		file(`"filename":"a.blob","size":1,"csum":` + csum + `,"crypt-mode":"aes"`),
		file(`"filename":"a.blob","size":1,"csum":` + csum + `,"crypt-mode":null`),
	} {
		_, err := ParseManifest([]byte(in))
		assert.ErrorIs(t, err, ErrBadManifest, in)
		var fe *FormatError
		assert.ErrorAs(t, err, &fe, in)
	}
	_, err := DecodeManifestBlob([]byte("short"))
	assert.ErrorIs(t, err, ErrTruncated)
}

func TestManifestMarshalErrors(t *testing.T) {
	for name, mutate := range map[string]func(*Manifest){
		"backup type": func(m *Manifest) { m.BackupType = "pc" },
		"csum":        func(m *Manifest) { m.Files[0].Csum = "x" },
		"crypt mode":  func(m *Manifest) { m.Files[0].CryptMode = "rot13" },
		"extra json":  func(m *Manifest) { m.Unprotected.Extra["bad"] = json.RawMessage(`{`) },
	} {
		m := manifestTestFull()
		mutate(m)
		_, err := m.MarshalJSON()
		assert.ErrorIs(t, err, ErrBadManifest, name)
		_, err = m.EncodeBlob(NewBlobEncoder())
		assert.ErrorIs(t, err, ErrBadManifest, name)
	}
	m := manifestTestFull()
	m.BackupType = "pc"
	_, err := m.SigningBytes()
	assert.ErrorIs(t, err, ErrBadManifest)
	_, err = m.Snapshot()
	assert.ErrorIs(t, err, ErrBadName)
}
