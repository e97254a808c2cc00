package pbs

// bufferPool recycles the chunk-sized buffers of a session: plain chunk
// data waiting to be hashed and encoded, and encoded chunks waiting for
// their upload's answer. It keeps at most its capacity of idle buffers,
// so together with the session's in-flight bound it caps the memory a
// backup holds, however large the input.
type bufferPool struct {
	free chan []byte
}

func newBufferPool(keep int) *bufferPool {
	return &bufferPool{free: make(chan []byte, keep)}
}

// get returns a buffer of length n, reusing an idle one when it is large
// enough.
func (p *bufferPool) get(n int) []byte {
	select {
	case b := <-p.free:
		if cap(b) >= n {
			return b[:n]
		}
	default:
	}
	return make([]byte, n)
}

// put hands a buffer back; it is dropped when the pool is full.
func (p *bufferPool) put(b []byte) {
	if b == nil {
		return
	}
	select {
	case p.free <- b[:0]:
	default:
	}
}
