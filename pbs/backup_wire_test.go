package pbs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
)

// The calls on the wire, against the pitfalls list of pbs-protocol.md
// section 11 and the rules of sections 3 and 4: where parameters go,
// which calls carry bodies, append batches and offsets, the order of
// uploads, appends, previous downloads, manifest and finish.

// callLog records every session call of a context.
type callLog struct {
	mu     sync.Mutex
	events []pbs.CallEvent
}

func (l *callLog) ctx(parent context.Context) context.Context {
	return pbs.WithCallObserver(parent, func(ev pbs.CallEvent) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.events = append(l.events, ev)
	})
}

func (l *callLog) all() []pbs.CallEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]pbs.CallEvent(nil), l.events...)
}

// appendBody is the JSON of a PUT *_index.
type appendBody struct {
	WID     int      `json:"wid"`
	Digests []string `json:"digest-list"`
	Offsets []uint64 `json:"offset-list"`
}

func decodeAppend(t *testing.T, ev pbs.CallEvent) appendBody {
	t.Helper()
	var a appendBody
	dec := json.NewDecoder(bytes.NewReader(ev.Body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&a), "append body %s", ev.Body)
	return a
}

func TestBackupWireFollowsProtocol(t *testing.T) {
	e := newBkEnv(t)
	stream := randomData(90, 12<<20)
	image := randomData(91, 2*(4<<20)+777)
	copy(image[4<<20:], make([]byte, 4<<20))
	conf := []byte("net0: virtio\n")

	run := func(l *callLog) *pbs.BackupResult {
		ctx := l.ctx(bkCtx(t))
		o := e.opts("wire")
		s, err := e.c.StartBackup(ctx, o)
		require.NoError(t, err)
		_, err = s.UploadStream(ctx, "root.pxar", bytes.NewReader(stream), pbs.WithAverageChunkSize(64<<10))
		require.NoError(t, err)
		_, err = s.UploadImage(ctx, "disk.img", bytes.NewReader(image), int64(len(image)))
		require.NoError(t, err)
		_, err = s.UploadBlob(ctx, "vm.conf", conf)
		require.NoError(t, err)
		res, err := s.Finish(ctx)
		require.NoError(t, err)
		e.settle()
		return res
	}

	var first, second callLog
	res1 := run(&first)
	res2 := run(&second)
	for i, l := range []*callLog{&first, &second} {
		t.Run([]string{"first", "incremental"}[i], func(t *testing.T) {
			checkWire(t, l.all())
		})
	}

	// The manifest lists blobs with size and SHA-256 of the encoded
	// bytes as uploaded, indexes with plain size and index checksum.
	for _, ev := range first.all() {
		if ev.Path == "/blob" && !ev.Done && ev.Query.Get("file-name") == "vm.conf.blob" {
			f, ok := res1.Manifest.File("vm.conf.blob")
			require.True(t, ok)
			assert.EqualValues(t, len(ev.Body), f.Size)
			sum := sha256.Sum256(ev.Body)
			assert.Equal(t, datastore.Digest(sum).String(), f.Csum)
		}
	}
	f, _ := res1.Manifest.File("disk.img.fidx")
	assert.EqualValues(t, len(image), f.Size)
	st := e.store()
	ix, err := st.OpenFixedIndex(datastore.Namespace{}, res1.Snapshot, "disk.img.fidx")
	require.NoError(t, err)
	sum := ix.Checksum()
	assert.Equal(t, datastore.Digest(sum).String(), f.Csum)
	assert.Equal(t, 3, ix.Count(), "4 MiB chunks and one short tail")
	dx, err := st.OpenDynamicIndex(datastore.Namespace{}, res1.Snapshot, "root.pxar.didx")
	require.NoError(t, err)
	dsum, _ := dx.Checksum()
	df, _ := res1.Manifest.File("root.pxar.didx")
	assert.Equal(t, datastore.Digest(dsum).String(), df.Csum)
	assert.EqualValues(t, len(stream), dx.Size(), "the .didx stores end offsets up to the size")

	// The incremental backup downloaded the previous manifest and both
	// indexes, and uploaded no chunk.
	var prevs []string
	for _, ev := range second.all() {
		if ev.Path == "/previous" && !ev.Done {
			prevs = append(prevs, ev.Query.Get("archive-name"))
		}
		assert.NotContains(t, ev.Path, "_chunk", "no chunk upload for unchanged data")
	}
	assert.Equal(t, []string{"index.json.blob", "root.pxar.didx", "disk.img.fidx"}, prevs)
	assert.Zero(t, res2.Stats.NewChunks)
}

// checkWire checks one session's calls.
func checkWire(t *testing.T, events []pbs.CallEvent) {
	require.NotEmpty(t, events)
	assert.Equal(t, "/previous_backup_time", events[0].Path, "the session starts by asking for the previous backup")

	answered := map[string]bool{}     // digests whose upload was answered
	prevIndexes := map[string]bool{}  // previous indexes downloaded
	wids := map[string]string{}       // wid -> "fixed" / "dynamic"
	archives := map[string]string{}   // wid -> archive name
	nextOffset := map[string]uint64{} // dynamic wid -> next start offset, when known
	short := map[string]int{}         // fixed wid -> short chunks uploaded
	started := map[string]bool{}      // dynamic wids with appends
	var sends []pbs.CallEvent
	for _, ev := range events {
		if ev.Done {
			require.NoError(t, ev.Err, "%s %s", ev.Method, ev.Path)
			switch {
			case strings.HasSuffix(ev.Path, "_chunk"):
				answered[ev.Query.Get("digest")] = true
			case ev.Path == "/previous":
				prevIndexes[ev.Query.Get("archive-name")] = true
			}
			continue
		}
		sends = append(sends, ev)
		kind := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(ev.Path, "/"), "_index"), "_close")
		switch {
		case ev.Method == http.MethodPut:
			// Only appends carry JSON bodies, with at most 128 entries and
			// nothing in the query string (pitfall 3, section 3.4).
			assert.Contains(t, []string{"/fixed_index", "/dynamic_index"}, ev.Path)
			assert.Equal(t, "application/json", ev.ContentType)
			assert.Empty(t, ev.Query)
			a := decodeAppend(t, ev)
			require.Len(t, a.Offsets, len(a.Digests))
			assert.LessOrEqual(t, len(a.Digests), 128)
			assert.NotEmpty(t, a.Digests)
			wid := strconv.Itoa(a.WID)
			for i, d := range a.Digests {
				_, err := datastore.ParseDigest(d)
				assert.NoError(t, err, "lowercase hex digests (pitfall 14)")
				assert.True(t, answered[d] || prevIndexes[archives[wid]],
					"digest %s appended before its upload was answered and without the previous index (pitfalls 3, 4)", d)
				if wids[wid] != "dynamic" {
					assert.Zero(t, a.Offsets[i]%(4<<20), "fixed offsets are multiples of 4 MiB")
					continue
				}
				// Start offsets, contiguous: each is the previous one plus
				// the previous chunk's size, known here from its upload.
				if want, ok := nextOffset[wid]; ok {
					assert.Equal(t, want, a.Offsets[i], "dynamic appends carry contiguous start offsets")
				} else if !started[wid] {
					assert.Zero(t, a.Offsets[i], "the first chunk starts at 0")
				}
				started[wid] = true
				delete(nextOffset, wid)
				if n := chunkLen(events, d); n > 0 {
					nextOffset[wid] = a.Offsets[i] + n
				}
			}
		case ev.Path == "/fixed_index" || ev.Path == "/dynamic_index":
			// POST *_index: parameters in the query string, no body.
			assert.Equal(t, "application/x-www-form-urlencoded", ev.ContentType)
			assert.Nil(t, ev.Body)
			assert.NotEmpty(t, ev.Query.Get("archive-name"))
			if ev.Path == "/fixed_index" {
				assert.NotEmpty(t, ev.Query.Get("size"))
			}
			wid := strconv.Itoa(len(wids) + 1) // the server numbers writers 1, 2, ... in order
			wids[wid], archives[wid] = kind, ev.Query.Get("archive-name")
		case strings.HasSuffix(ev.Path, "_close"):
			assert.Equal(t, "application/x-www-form-urlencoded", ev.ContentType)
			assert.Nil(t, ev.Body)
			for _, k := range []string{"wid", "chunk-count", "size", "csum"} {
				assert.NotEmpty(t, ev.Query.Get(k), "close parameter %s in the query string", k)
			}
		case strings.HasSuffix(ev.Path, "_chunk"):
			assert.Equal(t, "application/octet-stream", ev.ContentType)
			for _, k := range []string{"wid", "digest", "size", "encoded-size"} {
				assert.NotEmpty(t, ev.Query.Get(k), "chunk parameter %s in the query string", k)
			}
			assert.Equal(t, strconv.Itoa(len(ev.Body)), ev.Query.Get("encoded-size"))
			if ev.Path == "/fixed_chunk" {
				size, _ := strconv.Atoi(ev.Query.Get("size"))
				assert.LessOrEqual(t, size, 4<<20)
				if size < 4<<20 {
					short[ev.Query.Get("wid")]++
					assert.Equal(t, 1, short[ev.Query.Get("wid")], "at most one short chunk per fixed writer (pitfall 5)")
				}
			}
		case ev.Path == "/blob":
			assert.Equal(t, "application/octet-stream", ev.ContentType)
			assert.NotEmpty(t, ev.Query.Get("file-name"))
			assert.Equal(t, strconv.Itoa(len(ev.Body)), ev.Query.Get("encoded-size"))
		case ev.Path == "/finish":
			assert.Nil(t, ev.Body)
		}
	}
	// The manifest goes up right before finish, and finish is the last call
	// (pitfall 7).
	require.GreaterOrEqual(t, len(sends), 2)
	last, manifest := sends[len(sends)-1], sends[len(sends)-2]
	assert.Equal(t, "/finish", last.Path)
	assert.Equal(t, "/blob", manifest.Path)
	assert.Equal(t, "index.json.blob", manifest.Query.Get("file-name"))
}

// chunkLen finds the plain size of a chunk from its upload, or from a
// previous download's later uploads; 0 if unknown.
func chunkLen(events []pbs.CallEvent, digest string) uint64 {
	for _, ev := range events {
		if !ev.Done && strings.HasSuffix(ev.Path, "_chunk") && ev.Query.Get("digest") == digest {
			n, _ := strconv.ParseUint(ev.Query.Get("size"), 10, 64)
			return n
		}
	}
	return 0
}
