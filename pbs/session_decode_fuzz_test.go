package pbs

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
)

// The decoders of session answers never panic; whatever they refuse
// matches ErrMalformedResponse, and whatever they accept is in range.

func FuzzDecodePreviousTime(f *testing.F) {
	for _, s := range []string{`{"data":1717597476}`, `{"data":null}`, `{"data":0}`, `{"data":-5}`,
		`{"data":"1717597476"}`, `{"data":1.5}`, `{"data":1e3}`, `{}`, `[]`, `null`, ``, `{"data":9223372036854775808}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		epoch, ok, err := decodePreviousTime(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("error %v does not match ErrMalformedResponse", err)
			}
			return
		}
		if ok && epoch < 1 {
			t.Fatalf("accepted time %d", epoch)
		}
		if !ok && epoch != 0 {
			t.Fatalf("no time but %d", epoch)
		}
	})
}

func FuzzDecodeWriterID(f *testing.F) {
	for _, s := range []string{`{"data":1}`, `{"data":256}`, `{"data":257}`, `{"data":0}`, `{"data":null}`,
		`{"data":"1"}`, `{"data":true}`, `{"data":{}}`, `{"other":1}`, `{"data":1,"data":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		wid, err := decodeWriterID(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("error %v does not match ErrMalformedResponse", err)
			}
			return
		}
		if wid < 1 || wid > maxWriterID {
			t.Fatalf("accepted writer id %d", wid)
		}
	})
}

func FuzzDecodeChunkAnswer(f *testing.F) {
	d := datastore.ComputeDigest([]byte("chunk"))
	f.Add([]byte(`{"data":"` + d.String() + `"}`))
	f.Add([]byte(`{"data":"` + string(bytes.ToUpper([]byte(d.String()))) + `"}`))
	f.Add([]byte(`{"data":"abc"}`))
	f.Add([]byte(`{"data":null}`))
	f.Add([]byte(`{"data":42}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		err := decodeChunkAnswer(raw, d)
		if err != nil && !errors.Is(err, ErrMalformedResponse) {
			t.Fatalf("error %v does not match ErrMalformedResponse", err)
		}
		if err == nil && !bytes.Contains(raw, []byte(d.String())) && !bytes.Contains(raw, []byte(`\u`)) {
			t.Fatalf("accepted %q for digest %s", raw, d)
		}
	})
}

func FuzzDecodeNull(f *testing.F) {
	for _, s := range []string{`{"data":null}`, `{"data":null,"extra":1}`, `{"data":{}}`, `{}`, `x`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if err := decodeNull(raw); err != nil && !errors.Is(err, ErrMalformedResponse) {
			t.Fatalf("error %v does not match ErrMalformedResponse", err)
		}
	})
}

func TestDecoders(t *testing.T) {
	epoch, ok, err := decodePreviousTime([]byte(`{"data":1717597476}`))
	require.NoError(t, err)
	assert.True(t, ok)
	assert.EqualValues(t, 1717597476, epoch)
	_, ok, err = decodePreviousTime([]byte(`{"data":null}`))
	require.NoError(t, err)
	assert.False(t, ok)
	for _, bad := range []string{`{"data":"1"}`, `{"data":0}`, `{}`, `nope`, `{"data":1.5}`} {
		_, _, err := decodePreviousTime([]byte(bad))
		assert.ErrorIs(t, err, ErrMalformedResponse, bad)
	}

	wid, err := decodeWriterID([]byte(`{"data":3}`))
	require.NoError(t, err)
	assert.Equal(t, 3, wid)
	for _, bad := range []string{`{"data":0}`, `{"data":257}`, `{"data":null}`, `{"data":"3"}`} {
		_, err := decodeWriterID([]byte(bad))
		assert.ErrorIs(t, err, ErrMalformedResponse, bad)
	}

	d := datastore.ComputeDigest([]byte("x"))
	require.NoError(t, decodeChunkAnswer([]byte(`{"data":"`+d.String()+`"}`), d))
	other := datastore.ComputeDigest([]byte("y"))
	err = decodeChunkAnswer([]byte(`{"data":"`+other.String()+`"}`), d)
	assert.ErrorIs(t, err, ErrMalformedResponse)
	assert.Contains(t, err.Error(), other.String())

	require.NoError(t, decodeNull([]byte(`{"data":null}`)))
	assert.ErrorIs(t, decodeNull([]byte(`{"nodata":null}`)), ErrMalformedResponse)
}
