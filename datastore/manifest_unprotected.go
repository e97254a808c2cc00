package datastore

import (
	"encoding/json"
	"strconv"
	"time"
)

// Unprotected is the manifest member outside the signature, which the
// server rewrites: the key fingerprint the client used, upload statistics,
// the last verification and the snapshot notes. Members this package does
// not know are kept verbatim in Extra, as are known members whose value
// does not fit their field (or is empty), so nothing is lost on a rewrite.
type Unprotected struct {
	KeyFingerprint   string       // "key-fingerprint": colon hex, "" when absent
	ChunkUploadStats *UploadStats // "chunk_upload_stats", set by the server at finish
	VerifyState      *VerifyState // "verify_state", set by verify jobs
	Notes            string       // "notes"; the first line is the snapshot comment
	Extra            map[string]json.RawMessage
}

// UploadStats are the chunk statistics the server records at finish.
type UploadStats struct {
	Count          uint64 // chunks uploaded
	Size           uint64 // plain bytes uploaded
	CompressedSize uint64 // encoded bytes uploaded
	Duplicates     uint64 // uploads of chunks the store already had
}

// VerifyState is the result of the last verification of the snapshot.
type VerifyState struct {
	UPID  string // the verify task
	State string // "ok" or "failed"
}

// unprotectedFromJSON splits an unprotected object into typed fields and
// Extra.
func unprotectedFromJSON(v cjValue) Unprotected {
	var u Unprotected
	for _, m := range v.obj {
		if !u.unprotectedTake(m.key, m.val) {
			if u.Extra == nil {
				u.Extra = make(map[string]json.RawMessage)
			}
			u.Extra[m.key] = append(json.RawMessage(nil), m.val.raw...)
		}
	}
	return u
}

// unprotectedTake stores a known member in its field if it fits exactly.
func (u *Unprotected) unprotectedTake(key string, v cjValue) bool {
	switch key {
	case "key-fingerprint":
		if v.kind == cjString && v.s != "" {
			u.KeyFingerprint = v.s
			return true
		}
	case "notes":
		if v.kind == cjString && v.s != "" {
			u.Notes = v.s
			return true
		}
	case "chunk_upload_stats":
		var vals [4]uint64
		if !unprotectedExactly(v, []string{"compressed_size", "count", "duplicates", "size"}, func(i int, m cjValue) bool {
			var err error
			vals[i], err = strconv.ParseUint(m.s, 10, 64)
			return m.kind == cjNumber && err == nil
		}) {
			return false
		}
		u.ChunkUploadStats = &UploadStats{CompressedSize: vals[0], Count: vals[1], Duplicates: vals[2], Size: vals[3]}
		return true
	case "verify_state":
		var vals [2]string
		if !unprotectedExactly(v, []string{"state", "upid"}, func(i int, m cjValue) bool {
			vals[i] = m.s
			return m.kind == cjString
		}) {
			return false
		}
		u.VerifyState = &VerifyState{State: vals[0], UPID: vals[1]}
		return true
	}
	return false
}

// unprotectedExactly reports whether v is an object with exactly the given
// (sorted) keys, each accepted by ok.
func unprotectedExactly(v cjValue, keys []string, ok func(int, cjValue) bool) bool {
	if v.kind != cjObject || len(v.obj) != len(keys) {
		return false
	}
	for i, m := range v.obj {
		if m.key != keys[i] || !ok(i, m.val) {
			return false
		}
	}
	return true
}

// unprotectedValue builds the JSON object: Extra first, typed fields over it.
func (u *Unprotected) unprotectedValue() (cjValue, error) {
	v := cjValue{kind: cjObject}
	for key, raw := range u.Extra {
		ev, err := cjParse(raw)
		if err != nil {
			return cjValue{}, manifestErr("unprotected." + key + ": " + err.Error())
		}
		v.obj = cjSet(v.obj, key, ev)
	}
	if u.KeyFingerprint != "" {
		v.obj = cjSet(v.obj, "key-fingerprint", cjStr(u.KeyFingerprint))
	}
	if u.Notes != "" {
		v.obj = cjSet(v.obj, "notes", cjStr(u.Notes))
	}
	if s := u.ChunkUploadStats; s != nil {
		v.obj = cjSet(v.obj, "chunk_upload_stats", cjObj(
			cjMember{"compressed_size", cjUint(s.CompressedSize)},
			cjMember{"count", cjUint(s.Count)},
			cjMember{"duplicates", cjUint(s.Duplicates)},
			cjMember{"size", cjUint(s.Size)},
		))
	}
	if s := u.VerifyState; s != nil {
		v.obj = cjSet(v.obj, "verify_state", cjObj(
			cjMember{"state", cjStr(s.State)},
			cjMember{"upid", cjStr(s.UPID)},
		))
	}
	return v, nil
}

// unixUTC converts Unix seconds to a UTC time.
func unixUTC(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
