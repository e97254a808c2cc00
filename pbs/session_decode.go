package pbs

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/proxkit/proxkit/datastore"
)

// Decoders of the JSON answers inside sessions ({"data": ...}, section
// 3.4 of pbs-protocol.md). They never panic; anything unexpected matches
// ErrMalformedResponse.

// decodeData checks that raw is a JSON object with a "data" member and
// decodes that member into out (nil out: only the shape is checked; a
// null data leaves out untouched).
func decodeData(raw []byte, out any) error {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%w: answer is not a JSON object: %v", ErrMalformedResponse, err)
	}
	if env.Data == nil {
		return fmt.Errorf(`%w: answer without "data" member`, ErrMalformedResponse)
	}
	if out == nil || bytes.Equal(env.Data, []byte("null")) {
		return nil
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf(`%w: "data" does not fit %T: %v`, ErrMalformedResponse, out, err)
	}
	return nil
}

// decodePreviousTime decodes the answer of GET previous_backup_time: the
// epoch time of the previous snapshot, or null (ok false).
func decodePreviousTime(raw []byte) (epoch int64, ok bool, err error) {
	var v *int64
	if err := decodeData(raw, &v); err != nil {
		return 0, false, err
	}
	if v == nil {
		return 0, false, nil
	}
	if *v < 1 {
		return 0, false, fmt.Errorf("%w: previous backup time %d is not positive", ErrMalformedResponse, *v)
	}
	return *v, true, nil
}

// maxWriterID is the largest writer id the server's schema allows.
const maxWriterID = 256

// decodeWriterID decodes the answer of POST fixed_index / dynamic_index:
// the new writer id, 1..256.
func decodeWriterID(raw []byte) (int, error) {
	var v *int64
	if err := decodeData(raw, &v); err != nil {
		return 0, err
	}
	if v == nil {
		return 0, fmt.Errorf("%w: no writer id in the answer", ErrMalformedResponse)
	}
	if *v < 1 || *v > maxWriterID {
		return 0, fmt.Errorf("%w: writer id %d is not in 1..%d", ErrMalformedResponse, *v, maxWriterID)
	}
	return int(*v), nil
}

// decodeChunkAnswer decodes the answer of a chunk upload, the digest the
// server stored, and checks it is the one uploaded.
func decodeChunkAnswer(raw []byte, want datastore.Digest) error {
	var s string
	if err := decodeData(raw, &s); err != nil {
		return err
	}
	got, err := datastore.ParseDigest(s)
	if err != nil {
		return fmt.Errorf("%w: chunk answer %q is not a digest", ErrMalformedResponse, truncate(s, 80))
	}
	if got != want {
		return fmt.Errorf("%w: server stored chunk %s, uploaded %s", ErrMalformedResponse, got, want)
	}
	return nil
}

// decodeNull decodes the answer of calls that return nothing (appends,
// closes, blob, finish): {"data": null}. Any other data is tolerated, as
// the reference client ignores it, but the envelope must be there.
func decodeNull(raw []byte) error {
	return decodeData(raw, nil)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
