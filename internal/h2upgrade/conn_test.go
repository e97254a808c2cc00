package h2upgrade

import (
	"crypto/tls"
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUpgradedConnReadsBufferedBytesFirst(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	buffered := []byte("early")
	nc, uc := wrapConn(a, buffered)
	buffered[0] = 'X' // the wrapper holds its own copy
	_, isTLS := nc.(interface{ ConnectionState() tls.ConnectionState })
	assert.False(t, isTLS, "a plain connection must not claim TLS")

	go func() { _, _ = b.Write([]byte(" then live")) }()
	got := make([]byte, len("early then live"))
	_, err := io.ReadFull(nc, got)
	require.NoError(t, err)
	assert.Equal(t, "early then live", string(got))
	assert.NoError(t, uc.cause())

	b.Close()
	_, err = nc.Read(got)
	assert.ErrorIs(t, err, io.EOF)
	<-uc.ended
	assert.ErrorIs(t, uc.cause(), io.EOF, "the first error is kept")
	_, err = nc.Write([]byte("x"))
	assert.Error(t, err)
	assert.ErrorIs(t, uc.cause(), io.EOF)
}

func TestUpgradedConnWriteErrorEndsIt(t *testing.T) {
	a, b := net.Pipe()
	b.Close()
	nc, uc := wrapConn(a, nil)
	_, err := nc.Write([]byte("x"))
	require.Error(t, err)
	<-uc.ended
	assert.Error(t, uc.cause())
	assert.NoError(t, nc.Close())
}
