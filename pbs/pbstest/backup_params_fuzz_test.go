package pbstest

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// queryParams parses a raw query string as the session handlers do.
func queryParams(raw string) *mockcore.Params {
	return mockcore.ParseQueryParams(auth.PBS, &http.Request{URL: &url.URL{RawQuery: raw}})
}

// typedError reports whether err is one of the error kinds the decoders
// promise: a parameter error, an HTTP error, or a plain protocol message.
func typedError(err error) bool {
	var pe *mockcore.ParamError
	var he *mockcore.HTTPError
	return errors.As(err, &pe) || errors.As(err, &he) || err.Error() != ""
}

func TestDecodeAppendJSON(t *testing.T) {
	d := datastore.ComputeDigest([]byte("x"))
	req, err := decodeAppendJSON([]byte(`{"wid": 3, "digest-list": ["` + d.String() + `"], "offset-list": [4096]}`))
	require.NoError(t, err)
	assert.Equal(t, appendRequest{wid: 3, digests: []datastore.Digest{d}, offsets: []uint64{4096}}, req)

	for body, want := range map[string]string{
		``:         "'digest-list': property is missing and it is not optional",
		`[]`:       "Expected object - got array.",
		`7`:        "Expected object - got scalar value.",
		`null`:     "Expected object - got scalar value.",
		`{"wid":1`: "invalid JSON body",
		`{"wid":0,"digest-list":[],"offset-list":[]}`:       "'wid': value must have a minimum value of 1 (got 0)",
		`{"wid":1.5,"digest-list":[],"offset-list":[]}`:     "'wid': Expected integer value.",
		`{"wid":1,"digest-list":"a","offset-list":[]}`:      "'digest-list': Expected array - got scalar value.",
		`{"wid":1,"digest-list":[1],"offset-list":[0]}`:     "'digest-list/[0]': Expected string value.",
		`{"wid":1,"digest-list":["AB"],"offset-list":[0]}`:  "'digest-list/[0]': value does not match the regex pattern",
		`{"wid":1,"digest-list":[],"offset-list":[-1]}`:     "'offset-list/[0]': value must have a minimum value of 0",
		`{"wid":1,"digest-list":[],"offset-list":{}}`:       "'offset-list': Expected array - got object.",
		`{"wid":1,"digest-list":[],"offset-list":[],"x":1}`: "'x': schema does not allow additional properties",
		`{"wid":1,"digest-list":[],"offset-list":[0]}`:      "offset list has wrong length (1 != 0)",
	} {
		_, err := decodeAppendJSON([]byte(body))
		if assert.Error(t, err, body) {
			assert.Contains(t, err.Error(), want, body)
		}
	}
}

func TestDecodeAppendParams(t *testing.T) {
	d := datastore.ComputeDigest([]byte("x"))
	req, err := decodeAppendParams(queryParams("wid=2&digest-list=" + d.String() + "&digest-list=" + d.String() + "&offset-list=0&offset-list=1"))
	require.NoError(t, err)
	assert.Equal(t, appendRequest{wid: 2, digests: []datastore.Digest{d, d}, offsets: []uint64{0, 1}}, req)
	_, err = decodeAppendParams(queryParams("wid=2&digest-list=" + d.String() + "&offset-list=x"))
	assert.ErrorContains(t, err, "'offset-list/[0]'")
	_, err = decodeAppendParams(queryParams("wid=2"))
	assert.ErrorContains(t, err, "digest-list")
}

func TestDecodeSessionQueries(t *testing.T) {
	d := datastore.ComputeDigest([]byte("x")).String()
	c, err := decodeChunkUpload(queryParams("wid=1&digest=" + d + "&size=1&encoded-size=13"))
	require.NoError(t, err)
	assert.Equal(t, chunkUpload{wid: 1, digest: datastore.ComputeDigest([]byte("x")), size: 1, encodedSize: 13}, c)
	_, err = decodeChunkUpload(queryParams("wid=1&digest=" + d + "&size=1&encoded-size=12"))
	assert.ErrorContains(t, err, "'encoded-size': value must have a minimum value of 13")
	_, err = decodeChunkUpload(queryParams("wid=1&wid=2&digest=" + d + "&size=16777217&encoded-size=20"))
	assert.ErrorContains(t, err, "'size': value must have a maximum value of 16777216")

	cl, err := decodeIndexClose(queryParams("wid=1&chunk-count=0&size=0&csum="+d), false)
	require.NoError(t, err)
	assert.Equal(t, uint64(0), cl.chunkCount)
	_, err = decodeIndexClose(queryParams("wid=1&chunk-count=0&size=0&csum="+d), true)
	assert.ErrorContains(t, err, "minimum value of 1")
	_, err = decodeIndexClose(queryParams("wid=1&chunk-count=1&size=1&csum=xyz"), true)
	assert.ErrorContains(t, err, "Invalid string length")

	tgt, err := decodeUpgrade(queryParams("store=store1&ns=a/b&backup-type=vm&backup-id=100&backup-time=1700000000&debug=true&benchmark=false"), true)
	require.NoError(t, err)
	assert.Equal(t, "a/b", tgt.ns.String())
	assert.Equal(t, "vm/100/2023-11-14T22:13:20Z", tgt.snap.String())
	assert.True(t, tgt.debug)
	_, err = decodeUpgrade(queryParams("store=s&backup-type=vm&backup-id=100&backup-time=1"), true)
	assert.ErrorContains(t, err, "at least 3 characters")
}

// FuzzDecodeAppendJSON proves the append body decoder never panics and
// only returns consistent requests.
func FuzzDecodeAppendJSON(f *testing.F) {
	d := datastore.ComputeDigest([]byte("x")).String()
	for _, s := range []string{
		`{"wid":1,"digest-list":["` + d + `"],"offset-list":[0]}`,
		`{"wid":256,"digest-list":[],"offset-list":[]}`,
		`{"wid":1,"digest-list":[null],"offset-list":[1e3]}`,
		`[]`, `null`, ``, `{"wid":"1"}`, `{"offset-list":[18446744073709551615]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeAppendJSON(body)
		if err != nil {
			if !typedError(err) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if req.wid < 1 || req.wid > maxWriterID || len(req.digests) != len(req.offsets) || len(req.digests) > MaxAppendDigests {
			t.Fatalf("inconsistent request %+v", req)
		}
	})
}

// FuzzDecodeSessionQuery runs every query decoder of the session and
// upgrade endpoints over arbitrary query strings.
func FuzzDecodeSessionQuery(f *testing.F) {
	d := datastore.ComputeDigest([]byte("x")).String()
	for _, s := range []string{
		"wid=1&digest=" + d + "&size=1&encoded-size=13",
		"file-name=index.json.blob&encoded-size=12",
		"archive-name=disk.img.fidx&size=4194304&reuse-csum=" + d,
		"wid=1&chunk-count=1&size=1&csum=" + d,
		"wid=1&digest-list=" + d + "&offset-list=0",
		"store=store1&ns=a%2Fb&backup-type=host&backup-id=x&backup-time=1&benchmark=yes",
		"%zz=%&&=&wid=-1&size=99999999999999999999",
	} {
		for kind := range 8 {
			f.Add(uint8(kind), s)
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, raw string) {
		p := queryParams(raw)
		var err error
		switch kind % 8 {
		case 0:
			_, err = decodeChunkUpload(p)
		case 1:
			_, err = decodeBlobUpload(p)
		case 2:
			_, err = decodeFixedCreate(p)
		case 3:
			_, err = decodeDynamicCreate(p)
		case 4:
			_, err = decodeIndexClose(p, kind&8 != 0)
		case 5:
			_, err = decodeAppendParams(p)
		case 6:
			_, err = decodeUpgrade(p, true)
		case 7:
			_, err = decodeUpgrade(p, false)
		}
		if err != nil && !typedError(err) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
