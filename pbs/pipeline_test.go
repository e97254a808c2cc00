package pbs

import (
	"context"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
)

// The pipeline's ordering and bounds, with a recording chunk server that
// answers after random delays and checks the protocol's rules as a
// server would: an append may only name digests whose upload has been
// answered, and comes in batches of at most 128.

type recordingServer struct {
	mu        sync.Mutex
	answered  map[datastore.Digest]bool
	uploads   map[datastore.Digest]int
	appended  []chunkRef
	batches   []int
	inFlight  atomic.Int64
	maxFlight atomic.Int64
	delay     func() time.Duration
	failAt    int // fail the nth upload (1-based), 0: never
	gate      chan struct{}
	violation error
}

func newRecordingServer(seed uint64) *recordingServer {
	r := rand.New(rand.NewPCG(seed, 1))
	var mu sync.Mutex
	return &recordingServer{
		answered: map[datastore.Digest]bool{},
		uploads:  map[datastore.Digest]int{},
		delay: func() time.Duration {
			mu.Lock()
			defer mu.Unlock()
			return time.Duration(r.IntN(2000)) * time.Microsecond
		},
	}
}

func (s *recordingServer) uploadChunk(ctx context.Context, d datastore.Digest, size int, blob []byte) error {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxFlight.Load()
		if n <= m || s.maxFlight.CompareAndSwap(m, n) {
			break
		}
	}
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	time.Sleep(s.delay())
	plain, err := datastore.DecodeBlob(blob)
	if err != nil || len(plain) != size || sha256.Sum256(plain) != d {
		return errors.New("uploaded blob does not match its digest and size")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for _, c := range s.uploads {
		total += c
	}
	if s.failAt > 0 && total+1 == s.failAt {
		return errors.New("injected upload failure")
	}
	s.uploads[d]++
	s.answered[d] = true
	return nil
}

func (s *recordingServer) appendChunks(_ context.Context, refs []chunkRef) error {
	time.Sleep(s.delay())
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(refs) > maxAppendBatch && s.violation == nil {
		s.violation = errors.New("append batch too large")
	}
	for _, r := range refs {
		if !s.answered[r.digest] && s.violation == nil {
			s.violation = errors.New("append of a digest whose upload was not answered")
		}
	}
	s.appended = append(s.appended, refs...)
	s.batches = append(s.batches, len(refs))
	return nil
}

// chunkData is chunk i of a test input: random, with every 7th chunk a
// repeat of chunk 0.
func chunkData(i int) []byte {
	if i%7 == 6 {
		i = 0
	}
	b := make([]byte, 1000+i%13*100)
	r := rand.NewChaCha8([32]byte{byte(i), byte(i >> 8)})
	_, _ = r.Read(b)
	return b
}

func TestPipelineOrderAndAnswerBeforeAppend(t *testing.T) {
	for _, workers := range []int{1, 3} {
		srv := newRecordingServer(uint64(workers))
		env := newPipelineEnv(workers, 4, nil)
		var resolved []uint64
		p := newPipeline(context.Background(), env, srv, CompressAuto, false,
			func(off uint64, _ int, _ datastore.Digest) { resolved = append(resolved, off) }, nil)
		var offset uint64
		var want []chunkRef
		for i := range 600 {
			data := chunkData(i)
			require.NoError(t, p.submitData(context.Background(), offset, len(data), func(b []byte) error { copy(b, data); return nil }, i%2 == 0))
			want = append(want, chunkRef{offset: offset, digest: sha256.Sum256(data)})
			offset += uint64(len(data))
		}
		require.NoError(t, p.close())
		require.NoError(t, srv.violation)
		assert.Equal(t, want, srv.appended, "appends in input order with start offsets")
		for i, r := range want {
			require.Equal(t, r.offset, resolved[i])
		}
		for d, n := range srv.uploads {
			assert.Equal(t, 1, n, "chunk %s uploaded once", d)
		}
		for i, n := range srv.batches {
			if i < len(srv.batches)-1 {
				assert.Equal(t, maxAppendBatch, n, "full batches but the last")
			}
		}
		assert.LessOrEqual(t, srv.maxFlight.Load(), int64(4), "uploads in flight bounded")
		assert.EqualValues(t, 600, p.stats.Chunks)
		assert.Equal(t, p.stats.Chunks, p.stats.NewChunks+p.stats.ReusedChunks)
		assert.EqualValues(t, len(srv.uploads), p.stats.NewChunks)
	}
}

// While uploads go unanswered, the producer stops after the in-flight
// bound: memory does not grow with the input.
func TestPipelineBoundsChunksInMemory(t *testing.T) {
	srv := newRecordingServer(9)
	srv.gate = make(chan struct{})
	env := newPipelineEnv(2, 3, nil)
	p := newPipeline(context.Background(), env, srv, CompressNever, false, nil, nil)
	var submitted atomic.Int64
	done := make(chan error, 1)
	go func() {
		var off uint64
		for i := range 20 {
			data := chunkData(i*7 + 1) // never 6 mod 7: every chunk is new
			if err := p.submitData(context.Background(), off, len(data), func(b []byte) error { copy(b, data); return nil }, false); err != nil {
				done <- err
				return
			}
			submitted.Add(1)
			off += uint64(len(data))
		}
		done <- nil
	}()
	require.Eventually(t, func() bool { return srv.inFlight.Load() == 3 }, 5*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	assert.LessOrEqual(t, submitted.Load(), int64(3+1), "the producer waits for a free slot")
	close(srv.gate)
	require.NoError(t, <-done)
	require.NoError(t, p.close())
	require.NoError(t, srv.violation)
	assert.Len(t, srv.appended, 20)
}

// A failed upload stops the pipeline: later submits and close return the
// failure, nothing after it is appended, no goroutine is left waiting.
func TestPipelineFailure(t *testing.T) {
	srv := newRecordingServer(5)
	srv.failAt = 10
	env := newPipelineEnv(2, 4, nil)
	var reported error
	p := newPipeline(context.Background(), env, srv, CompressAuto, false, nil, func(err error) { reported = err })
	var off uint64
	var submitErr error
	for i := range 200 {
		data := chunkData(i*7 + 100) // i*7+100 is never 6 mod 7: no repeats
		if submitErr = p.submitData(context.Background(), off, len(data), func(b []byte) error { copy(b, data); return nil }, false); submitErr != nil {
			break
		}
		off += uint64(len(data))
	}
	err := p.close()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "injected upload failure")
	assert.Equal(t, err, reported)
	if submitErr != nil {
		assert.Equal(t, err, submitErr)
	}
	assert.Less(t, len(srv.appended), 200)
	for _, r := range srv.appended {
		assert.True(t, srv.answered[r.digest])
	}
}

// Two archives of one session share the known chunks: a digest uploaded
// by one is appended by the other only after that upload was answered.
func TestPipelineSharedKnownChunks(t *testing.T) {
	srv := newRecordingServer(11)
	env := newPipelineEnv(2, 4, nil)
	a := newPipeline(context.Background(), env, srv, CompressAuto, false, nil, nil)
	b := newPipeline(context.Background(), env, srv, CompressAuto, false, nil, nil)
	var wg sync.WaitGroup
	for _, p := range []*pipeline{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var off uint64
			for i := range 50 {
				data := chunkData(i)
				assert.NoError(t, p.submitData(context.Background(), off, len(data), func(buf []byte) error { copy(buf, data); return nil }, false))
				off += uint64(len(data))
			}
		}()
	}
	wg.Wait()
	require.NoError(t, a.close())
	require.NoError(t, b.close())
	require.NoError(t, srv.violation)
	for d, n := range srv.uploads {
		assert.Equal(t, 1, n, "chunk %s uploaded once for both archives", d)
	}
	assert.Equal(t, int64(100), a.stats.Chunks+b.stats.Chunks)
	assert.EqualValues(t, len(srv.uploads), a.stats.NewChunks+b.stats.NewChunks)

	// A known digest can be appended without data.
	c := newPipeline(context.Background(), env, srv, CompressAuto, false, nil, nil)
	d := datastore.Digest(sha256.Sum256(chunkData(3)))
	st, ok := env.known.lookup(d)
	require.True(t, ok)
	require.NoError(t, c.submitKnown(context.Background(), 0, int(st.size), d, st))
	require.NoError(t, c.close())
	assert.EqualValues(t, 1, c.stats.ReusedChunks)
}

// Cancelling the parent context (the session ending) stops everything.
func TestPipelineParentCancel(t *testing.T) {
	srv := newRecordingServer(13)
	srv.gate = make(chan struct{})
	parent, cancel := context.WithCancelCause(context.Background())
	env := newPipelineEnv(2, 2, nil)
	p := newPipeline(parent, env, srv, CompressAuto, false, nil, nil)
	errc := make(chan error, 1)
	go func() {
		var off uint64
		for i := range 10 {
			data := chunkData(i)
			if err := p.submitData(context.Background(), off, len(data), func(b []byte) error { copy(b, data); return nil }, false); err != nil {
				errc <- err
				return
			}
			off += uint64(len(data))
		}
		errc <- nil
	}()
	time.Sleep(20 * time.Millisecond)
	boom := errors.New("session aborted")
	cancel(boom)
	assert.ErrorIs(t, <-errc, boom)
	assert.ErrorIs(t, p.close(), boom)
}

func TestCompressionSampling(t *testing.T) {
	enc := newChunkEncoder()
	random := make([]byte, 4<<20)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(random)
	assert.False(t, enc.worthCompressing(random))
	text := make([]byte, 0, 4<<20)
	for len(text) < 4<<20 {
		text = append(text, "the quick brown fox jumps over the lazy dog 0123456789\n"...)
	}
	assert.True(t, enc.worthCompressing(text))
	assert.True(t, enc.worthCompressing(random[:1000]), "small chunks are always tried")

	blob, err := enc.encode(nil, random, CompressAuto)
	require.NoError(t, err)
	h, err := datastore.ParseBlobHeader(blob)
	require.NoError(t, err)
	assert.Equal(t, datastore.BlobUncompressed, h.Kind)
	blob, err = enc.encode(nil, text, CompressAuto)
	require.NoError(t, err)
	h, _ = datastore.ParseBlobHeader(blob)
	assert.Equal(t, datastore.BlobCompressed, h.Kind)
	blob, err = enc.encode(nil, text, CompressNever)
	require.NoError(t, err)
	h, _ = datastore.ParseBlobHeader(blob)
	assert.Equal(t, datastore.BlobUncompressed, h.Kind)
	blob, err = enc.encode(nil, random, CompressAlways)
	require.NoError(t, err)
	h, _ = datastore.ParseBlobHeader(blob)
	assert.Equal(t, datastore.BlobUncompressed, h.Kind, "zstd output not smaller: stored plain (pitfall 11)")

	assert.True(t, enc.allZero(make([]byte, 4<<20)))
	z := make([]byte, 4<<20)
	z[len(z)-1] = 1
	assert.False(t, enc.allZero(z))
	assert.Equal(t, datastore.ComputeDigest(make([]byte, datastore.FixedChunkSize)), zeroChunkDigest())
}
