package pbs

import (
	"sync"

	"github.com/proxkit/proxkit/datastore"
)

// knownChunks is the client's copy of the server's per-session
// known_chunks map (pbs-protocol.md 3.3): every digest that may be
// appended in this session, with its length. A digest gets here when its
// upload has been claimed; appends wait for that upload's answer
// (chunkState.done) before they mention it, so that no append ever names
// a chunk the server has not registered yet. Digests of a previous
// index enter already answered, right after GET previous of that index.
type knownChunks struct {
	mu sync.Mutex
	m  map[datastore.Digest]*chunkState
	// answered is closed; the states of registered digests share it.
	answered chan struct{}
}

// chunkState is one digest of the session: registered (done closed, err
// nil), being uploaded (done open), or failed (done closed, err set).
type chunkState struct {
	size uint32
	done chan struct{}
	err  error
}

func newKnownChunks() *knownChunks {
	k := &knownChunks{m: make(map[datastore.Digest]*chunkState), answered: make(chan struct{})}
	close(k.answered)
	return k
}

// claim returns the state of d. fresh is true when d was unknown: the
// caller must then upload the chunk and call finish on the state, whatever
// happens.
func (k *knownChunks) claim(d datastore.Digest, size int) (st *chunkState, fresh bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if st, ok := k.m[d]; ok {
		return st, false
	}
	st = &chunkState{size: uint32(size), done: make(chan struct{})}
	k.m[d] = st
	return st, true
}

// lookup returns the state of d, if any.
func (k *knownChunks) lookup(d datastore.Digest) (*chunkState, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	st, ok := k.m[d]
	return st, ok
}

// register records digests the server registered (GET previous); digests
// already present keep their state.
func (k *knownChunks) register(d datastore.Digest, size uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[d]; !ok {
		k.m[d] = &chunkState{size: uint32(size), done: k.answered}
	}
}

// finish ends the upload of a claimed digest. A failed upload is removed,
// so the digest counts as unknown again.
func (k *knownChunks) finish(d datastore.Digest, st *chunkState, err error) {
	if err != nil {
		k.mu.Lock()
		if k.m[d] == st {
			delete(k.m, d)
		}
		k.mu.Unlock()
	}
	st.err = err
	close(st.done)
}

// len returns the number of digests known.
func (k *knownChunks) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}
