package pbstest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// Limits of the backup protocol's parameter schemas (pbs-protocol.md 3.4,
// 3.5; upstream src/api2/backup/mod.rs and upload_chunk.rs).
const (
	// maxWriterID: the schema allows writer ids 1..256.
	maxWriterID = 256
	// maxChunkSize is the largest plain chunk ("size" 1..16 MiB).
	maxChunkSize = 16 << 20
	// plainHeaderSize and cryptHeaderSize are the DataBlob header sizes.
	plainHeaderSize = 12
	cryptHeaderSize = 44
	// maxEncodedSize bounds "encoded-size" of chunks and blobs.
	maxEncodedSize = maxChunkSize + cryptHeaderSize
)

// MaxAppendDigests is the most digests one PUT fixed_index or
// dynamic_index append may carry on this mock. PBS itself only limits the
// body size, but the reference clients never send more than 128 entries
// per append (pbs-protocol.md 3.8), so a client that does is off the
// beaten path and the mock refuses it with a 400.
const MaxAppendDigests = 128

// Schema messages of proxmox-schema, as PBS puts them after the
// parameter name.
const (
	msgRegex = "value does not match the regex pattern"
)

// msgMinimum and msgMaximum are proxmox-schema's range messages.
func msgMinimum(lo, got int64) string {
	return fmt.Sprintf("value must have a minimum value of %d (got %d)", lo, got)
}

func msgMaximum(hi, got int64) string {
	return fmt.Sprintf("value must have a maximum value of %d (got %d)", hi, got)
}

// intParam reads an integer parameter and checks its range.
func intParam(p *mockcore.Params, name string, lo, hi int64) (int64, bool) {
	n, ok := p.Int(name)
	if !ok {
		return 0, false
	}
	if n < lo {
		p.Fail(name, msgMinimum(lo, n))
		return 0, false
	}
	if n > hi {
		p.Fail(name, msgMaximum(hi, n))
		return 0, false
	}
	return n, true
}

// safeIDParam reads a parameter that must be a SAFE_ID
// (^[A-Za-z0-9_][A-Za-z0-9._-]*$), such as archive and file names.
func safeIDParam(p *mockcore.Params, name string) (string, bool) {
	s, ok := p.String(name)
	if !ok {
		return "", false
	}
	if !validSafeID(s) {
		p.Fail(name, msgRegex)
		return "", false
	}
	return s, true
}

// validSafeID reports whether s is a SAFE_ID. A backup id has exactly
// the SAFE_ID grammar (pbs-protocol.md 3.1), so package datastore's group
// validation is the check.
func validSafeID(s string) bool {
	return datastore.Group{Type: datastore.TypeHost, ID: s}.Validate() == nil
}

// digestParam reads a chunk digest: 64 lowercase hex digits.
func digestParam(p *mockcore.Params, name string) (datastore.Digest, bool) {
	s, ok := p.String(name)
	if !ok {
		return datastore.Digest{}, false
	}
	d, err := datastore.ParseDigest(s)
	if err != nil {
		p.Fail(name, msgRegex)
		return datastore.Digest{}, false
	}
	return d, true
}

// parseCsum decodes an index checksum parameter the way PBS does after
// the schema (a plain string) accepted it: hex of exactly 32 bytes, in
// either case.
func parseCsum(s string) ([32]byte, error) {
	var out [32]byte
	if len(s) != 2*len(out) {
		return out, errors.New("Invalid string length")
	}
	if _, err := hex.Decode(out[:], []byte(s)); err != nil {
		return out, fmt.Errorf("Invalid character in checksum: %w", err)
	}
	return out, nil
}

// chunkUpload holds the query parameters of POST fixed_chunk and
// dynamic_chunk.
type chunkUpload struct {
	wid         int
	digest      datastore.Digest
	size        int
	encodedSize int
}

// decodeChunkUpload checks the parameters of a chunk upload.
func decodeChunkUpload(p *mockcore.Params) (chunkUpload, error) {
	p.RejectUnknown("wid", "digest", "size", "encoded-size")
	p.Require("wid", "digest", "size", "encoded-size")
	var c chunkUpload
	wid, _ := intParam(p, "wid", 1, maxWriterID)
	c.digest, _ = digestParam(p, "digest")
	size, _ := intParam(p, "size", 1, maxChunkSize)
	enc, _ := intParam(p, "encoded-size", plainHeaderSize+1, maxEncodedSize)
	c.wid, c.size, c.encodedSize = int(wid), int(size), int(enc)
	return c, p.Err()
}

// blobUpload holds the query parameters of POST blob.
type blobUpload struct {
	name        string
	encodedSize int
}

// decodeBlobUpload checks the parameters of a blob upload.
func decodeBlobUpload(p *mockcore.Params) (blobUpload, error) {
	p.RejectUnknown("file-name", "encoded-size")
	p.Require("file-name", "encoded-size")
	var b blobUpload
	b.name, _ = safeIDParam(p, "file-name")
	enc, _ := intParam(p, "encoded-size", plainHeaderSize, maxEncodedSize)
	b.encodedSize = int(enc)
	return b, p.Err()
}

// fixedCreate holds the parameters of POST fixed_index.
type fixedCreate struct {
	name      string
	size      uint64
	reuseCsum string // "" when absent
}

// decodeFixedCreate checks the parameters of POST fixed_index.
func decodeFixedCreate(p *mockcore.Params) (fixedCreate, error) {
	p.RejectUnknown("archive-name", "size", "reuse-csum")
	p.Require("archive-name", "size")
	var c fixedCreate
	c.name, _ = safeIDParam(p, "archive-name")
	size, _ := intParam(p, "size", 1, math.MaxInt64)
	c.size = uint64(size)
	if p.Has("reuse-csum") {
		c.reuseCsum, _ = p.String("reuse-csum")
	}
	return c, p.Err()
}

// decodeDynamicCreate checks the parameters of POST dynamic_index and
// returns the archive name.
func decodeDynamicCreate(p *mockcore.Params) (string, error) {
	p.RejectUnknown("archive-name")
	p.Require("archive-name")
	name, _ := safeIDParam(p, "archive-name")
	return name, p.Err()
}

// indexClose holds the parameters of POST fixed_close and dynamic_close.
type indexClose struct {
	wid        int
	chunkCount uint64
	size       uint64
	csum       [32]byte
}

// decodeIndexClose checks the parameters of a close call. A dynamic
// index needs at least one chunk and one byte; a fixed one may report
// zero of both (incremental backups that changed nothing).
func decodeIndexClose(p *mockcore.Params, dynamic bool) (indexClose, error) {
	p.RejectUnknown("wid", "chunk-count", "size", "csum")
	p.Require("wid", "chunk-count", "size", "csum")
	lo := int64(0)
	if dynamic {
		lo = 1
	}
	var c indexClose
	wid, _ := intParam(p, "wid", 1, maxWriterID)
	count, _ := intParam(p, "chunk-count", lo, math.MaxInt64)
	size, _ := intParam(p, "size", lo, math.MaxInt64)
	csum, _ := p.String("csum")
	if err := p.Err(); err != nil {
		return c, err
	}
	c.wid, c.chunkCount, c.size = int(wid), uint64(count), uint64(size)
	var err error
	c.csum, err = parseCsum(csum)
	return c, err
}

// appendRequest is the content of PUT fixed_index and dynamic_index: the
// writer and, per chunk, its digest and start offset.
type appendRequest struct {
	wid     int
	digests []datastore.Digest
	offsets []uint64
}

// appendParams are the parameter names of an append.
var appendParams = []string{"wid", "digest-list", "offset-list"}

// decodeAppendJSON decodes an append sent as a JSON body, as the
// reference clients send it:
//
//	{"wid": 1, "digest-list": ["<64 hex>", ...], "offset-list": [0, ...]}
//
// Errors are *mockcore.ParamError with PBS's messages, or *mockcore.HTTPError
// for a body that is not a JSON object.
func decodeAppendJSON(body []byte) (appendRequest, error) {
	var req appendRequest
	var obj map[string]json.RawMessage
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		trimmed = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	err := dec.Decode(&obj)
	if err == nil && dec.More() {
		err = errors.New("trailing characters after the object")
	}
	if err != nil {
		switch {
		case trimmed[0] == '[':
			return req, mockcore.Errorf(http.StatusBadRequest, "Expected object - got array.")
		case trimmed[0] != '{':
			return req, mockcore.Errorf(http.StatusBadRequest, "Expected object - got scalar value.")
		}
		return req, mockcore.Errorf(http.StatusBadRequest, "invalid JSON body: %v", err)
	}
	if obj == nil { // the body was "null"
		return req, mockcore.Errorf(http.StatusBadRequest, "Expected object - got scalar value.")
	}
	perr := &mockcore.ParamError{Product: auth.PBS}
	fail := func(name, msg string) {
		perr.Errors = append(perr.Errors, mockcore.FieldError{Param: name, Message: msg})
	}
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		if !isAppendParam(name) {
			fail(name, "schema does not allow additional properties")
		}
	}
	for _, name := range appendParams {
		if _, ok := obj[name]; !ok {
			fail(name, "property is missing and it is not optional")
		}
	}
	if raw, ok := obj["wid"]; ok {
		if n, msg := jsonInt(raw, 1, maxWriterID); msg != "" {
			fail("wid", msg)
		} else {
			req.wid = int(n)
		}
	}
	if raw, ok := obj["digest-list"]; ok {
		items, msg := jsonArray(raw)
		if msg != "" {
			fail("digest-list", msg)
		}
		for i, it := range items {
			var s string
			if json.Unmarshal(it, &s) != nil || len(it) == 0 || it[0] != '"' {
				fail(fmt.Sprintf("digest-list/[%d]", i), "Expected string value.")
				continue
			}
			d, err := datastore.ParseDigest(s)
			if err != nil {
				fail(fmt.Sprintf("digest-list/[%d]", i), msgRegex)
				continue
			}
			req.digests = append(req.digests, d)
		}
	}
	if raw, ok := obj["offset-list"]; ok {
		items, msg := jsonArray(raw)
		if msg != "" {
			fail("offset-list", msg)
		}
		for i, it := range items {
			n, msg := jsonInt(it, 0, math.MaxInt64)
			if msg != "" {
				fail(fmt.Sprintf("offset-list/[%d]", i), msg)
				continue
			}
			req.offsets = append(req.offsets, uint64(n))
		}
	}
	if len(perr.Errors) > 0 {
		return appendRequest{}, perr
	}
	return req, checkAppendLengths(req)
}

// decodeAppendParams decodes an append whose parameters came as a form or
// query string (PBS accepts that too): lists as repeated keys.
func decodeAppendParams(p *mockcore.Params) (appendRequest, error) {
	p.RejectUnknown(appendParams...)
	p.Require(appendParams...)
	var req appendRequest
	wid, _ := intParam(p, "wid", 1, maxWriterID)
	req.wid = int(wid)
	digests, _ := p.List("digest-list")
	for i, s := range digests {
		d, err := datastore.ParseDigest(s)
		if err != nil {
			p.Fail(fmt.Sprintf("digest-list/[%d]", i), msgRegex)
			continue
		}
		req.digests = append(req.digests, d)
	}
	offsets, _ := p.List("offset-list")
	for i, s := range offsets {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			p.Fail(fmt.Sprintf("offset-list/[%d]", i), "Expected integer value.")
			continue
		}
		req.offsets = append(req.offsets, uint64(n))
	}
	if err := p.Err(); err != nil {
		return appendRequest{}, err
	}
	return req, checkAppendLengths(req)
}

// checkAppendLengths applies the list rules after the schema: equal
// lengths (PBS) and at most MaxAppendDigests entries (this mock).
func checkAppendLengths(req appendRequest) error {
	if len(req.offsets) != len(req.digests) {
		return fmt.Errorf("offset list has wrong length (%d != %d)", len(req.offsets), len(req.digests))
	}
	if len(req.digests) > MaxAppendDigests {
		return fmt.Errorf("pbstest: append of %d digests refused: the reference clients send at most %d per append", len(req.digests), MaxAppendDigests)
	}
	return nil
}

// isAppendParam reports whether name is a parameter of an append.
func isAppendParam(name string) bool { return slices.Contains(appendParams, name) }

// jsonInt decodes a JSON integer within [min, max]; msg is PBS's complaint
// when it is not one.
func jsonInt(raw json.RawMessage, lo, hi int64) (int64, string) {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil {
		return 0, "Expected integer value."
	}
	if n < lo {
		return 0, msgMinimum(lo, n)
	}
	if n > hi {
		return 0, msgMaximum(hi, n)
	}
	return n, ""
}

// jsonArray decodes a JSON array into its raw items; msg is PBS's
// complaint when it is not an array.
func jsonArray(raw json.RawMessage) ([]json.RawMessage, string) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '[' {
		if len(t) > 0 && t[0] == '{' {
			return nil, "Expected array - got object."
		}
		return nil, "Expected array - got scalar value."
	}
	var items []json.RawMessage
	if err := json.Unmarshal(t, &items); err != nil {
		return nil, "Expected array - got scalar value."
	}
	return items, ""
}
