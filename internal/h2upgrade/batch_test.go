package h2upgrade

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingConn records every write it gets, or fails them.
type recordingConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
	fail   error
}

func (r *recordingConn) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return 0, r.fail
	}
	r.writes = append(r.writes, bytes.Clone(p))
	return len(p), nil
}

func (r *recordingConn) sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, w := range r.writes {
		out = append(out, len(w))
	}
	return out
}

func TestBatchConnGathersWritesOfOneBatch(t *testing.T) {
	rec := &recordingConn{}
	b := &batchConn{Conn: rec}

	_, err := b.Write([]byte("alert"))
	require.NoError(t, err)
	assert.Equal(t, []int{5}, rec.sizes(), "outside a batch, writes go straight through")

	b.begin()
	for range 20 {
		n, err := b.Write(make([]byte, 16<<10))
		require.NoError(t, err)
		require.Equal(t, 16<<10, n)
	}
	assert.Equal(t, []int{5, batchMax}, rec.sizes(), "a full batch is written at once")
	require.NoError(t, b.end())
	assert.Equal(t, []int{5, batchMax, 4 * 16 << 10}, rec.sizes(), "end writes the rest")

	b.begin()
	_, err = b.Write(make([]byte, batchMax+1))
	require.NoError(t, err)
	require.NoError(t, b.end())
	assert.Equal(t, batchMax+1, rec.sizes()[3], "a large write goes through whole")
	require.NoError(t, b.end(), "nothing gathered: nothing written")
	assert.Len(t, rec.sizes(), 4)
}

func TestBatchConnKeepsOrderAcrossNestedBatches(t *testing.T) {
	rec := &recordingConn{}
	b := &batchConn{Conn: rec}
	b.begin()
	b.begin()
	_, _ = b.Write([]byte("ab"))
	require.NoError(t, b.end())
	_, _ = b.Write([]byte("cd")) // still inside the outer batch
	require.NoError(t, b.end())
	_, _ = b.Write([]byte("ef"))
	var all []byte
	for _, w := range rec.writes {
		all = append(all, w...)
	}
	assert.Equal(t, "abcdef", string(all))
}

func TestBatchConnFailureSticks(t *testing.T) {
	boom := errors.New("link down")
	rec := &recordingConn{fail: boom}
	b := &batchConn{Conn: rec}
	b.begin()
	_, err := b.Write([]byte("record"))
	require.NoError(t, err, "gathered, not written yet")
	assert.ErrorIs(t, b.end(), boom)
	rec.fail = nil
	_, err = b.Write([]byte("later"))
	assert.ErrorIs(t, err, boom, "TLS counted the lost record as sent")
	assert.Empty(t, rec.sizes())
}
