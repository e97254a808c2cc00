package pbstest

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
)

// readChunkBody returns what io.ReadFull returns, however the body comes,
// and sums an uncompressed blob's data whatever piece the header ends in.
func TestReadChunkBodyMatchesReadFull(t *testing.T) {
	data := randomBytes(7, 200<<10+3)
	plainBlob, err := datastore.EncodeBlob(data, false)
	require.NoError(t, err)
	packed, err := datastore.EncodeBlob(bytes.Repeat([]byte("abc"), 50000), true)
	require.NoError(t, err)
	readers := map[string]func([]byte) io.Reader{
		"whole":    func(b []byte) io.Reader { return bytes.NewReader(b) },
		"one byte": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"half":     func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
		"data+EOF": func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
	}
	bodies := map[string][]byte{
		"uncompressed": plainBlob,
		"compressed":   packed,
		"header only":  plainBlob[:datastore.BlobHeaderSize],
		"short":        plainBlob[:5],
		"empty":        nil,
	}
	for rname, reader := range readers {
		for bname, body := range bodies {
			for _, room := range []int{len(body) + 1, len(body), len(body) / 2} {
				buf := make([]byte, room)
				want := make([]byte, room)
				wantN, wantErr := io.ReadFull(reader(body), want)

				var sum datastore.PayloadSum
				n, plain, err := readChunkBody(reader(body), buf, &sum)
				name := rname + "/" + bname
				require.Equal(t, wantN, n, name)
				assert.Equal(t, want[:wantN], buf[:n], name)
				assert.True(t, errors.Is(err, wantErr) || err == wantErr, "%s: %v, want %v", name, err, wantErr)

				isPlain := n >= datastore.BlobHeaderSize && bname != "compressed"
				assert.Equal(t, isPlain, plain, name)
				if plain {
					d, crc := sum.Sum()
					assert.Equal(t, datastore.ComputeDigest(buf[datastore.BlobHeaderSize:n]), d, name)
					if bname == "uncompressed" && n == len(body) {
						h, err := datastore.ParseBlobHeader(body)
						require.NoError(t, err)
						assert.Equal(t, h.CRC, crc, name)
					}
				}
			}
		}
	}
}

// splitReader returns its data in reads of the given lengths, in turn.
type splitReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (r *splitReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(r.data)
	if len(r.sizes) > 0 {
		n = 1 + int(r.sizes[r.i%len(r.sizes)])
		r.i++
	}
	n = copy(p, r.data[:min(n, len(r.data))])
	r.data = r.data[n:]
	return n, nil
}

// An upload body of any bytes, arriving in reads of any sizes, is read as
// io.ReadFull reads it; the sum covers exactly the data of an
// uncompressed blob.
func FuzzReadChunkBody(f *testing.F) {
	plain, err := datastore.EncodeBlob(randomBytes(9, 3000), false)
	require.NoError(f, err)
	f.Add(plain, []byte{7, 200, 0}, uint16(len(plain)+1))
	f.Add(plain[:20], []byte{}, uint16(10))
	f.Add([]byte("not a blob at all"), []byte{1}, uint16(100))
	f.Fuzz(func(t *testing.T, body, sizes []byte, room uint16) {
		want := make([]byte, room)
		wantN, wantErr := io.ReadFull(bytes.NewReader(body), want)
		buf := make([]byte, room)
		var sum datastore.PayloadSum
		n, plain, err := readChunkBody(&splitReader{data: body, sizes: sizes}, buf, &sum)
		require.Equal(t, wantN, n)
		require.Equal(t, want[:n], buf[:n])
		require.Equal(t, wantErr, err)
		h, herr := datastore.ParseBlobHeader(buf[:n])
		require.Equal(t, herr == nil && h.Kind == datastore.BlobUncompressed, plain)
		if plain {
			d, _ := sum.Sum()
			require.Equal(t, datastore.ComputeDigest(buf[datastore.BlobHeaderSize:n]), d)
		}
	})
}
