package pbstest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"sync"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// speedtestSize is what GET speedtest of a reader session sends: 1 MiB
// of 'A' (pbs-protocol.md 4.2).
const speedtestSize = 1 << 20

// readerSession is the server side of one reader (restore) session
// (pbs-protocol.md 4): a finished snapshot held with a shared lock, and
// the digests the session may download, which only index downloads of
// this session register. It is safe for concurrent use.
type readerSession struct {
	store *datastore.Store
	ns    datastore.Namespace
	snap  datastore.Snapshot
	lock  *datastore.DirLock
	bufs  *chunkWorkers // the server's chunk buffers, for chunk downloads

	mu      sync.Mutex
	allowed map[datastore.Digest]struct{}
}

// startReader opens a reader session on t.snap with PBS's checks after
// the privilege, owner and Upgrade header checks: the snapshot must exist
// (here: be finished, since unfinished snapshots are not visible) and is
// locked shared for the session, so it cannot be removed meanwhile.
func startReader(store *datastore.Store, t sessionTarget, bufs *chunkWorkers) (*readerSession, error) {
	snapName := t.snap.String()
	if !t.ns.IsRoot() {
		snapName = "[" + t.ns.String() + "]:" + snapName
	}
	if _, err := os.Stat(store.SnapshotPath(t.ns, t.snap)); err != nil {
		return nil, fmt.Errorf("snapshot %s does not exist.", snapName)
	}
	lock, err := store.LockSnapshot(t.ns, t.snap, false)
	if err != nil {
		return nil, err // "unable to acquire lock on snapshot directory ... - locked by another operation"
	}
	if bufs == nil {
		bufs = newChunkWorkers(0)
	}
	return &readerSession{store: store, ns: t.ns, snap: t.snap, lock: lock, bufs: bufs, allowed: map[datastore.Digest]struct{}{}}, nil
}

// download opens a file of the snapshot (GET download?file-name=) and,
// for an index, makes its chunks downloadable in this session first. A
// missing blob is a 404, a missing index a 400 (indexes are opened first).
func (rs *readerSession) download(name string) (*os.File, error) {
	typ, err := datastore.ParseArchiveName(name)
	if err != nil {
		return nil, fmt.Errorf("unknown archive type: %q", name)
	}
	var digests []datastore.Digest
	switch typ {
	case datastore.ArchiveFixed:
		ix, err := rs.store.OpenFixedIndex(rs.ns, rs.snap, name)
		if err != nil {
			return nil, fmt.Errorf("unable to open fixed index %q: %w", name, err)
		}
		for i := range ix.Count() {
			digests = append(digests, ix.Digest(i))
		}
	case datastore.ArchiveDynamic:
		ix, err := rs.store.OpenDynamicIndex(rs.ns, rs.snap, name)
		if err != nil {
			return nil, fmt.Errorf("unable to open dynamic index %q: %w", name, err)
		}
		for i := range ix.Count() {
			_, _, d := ix.Entry(i)
			digests = append(digests, d)
		}
	}
	if len(digests) > 0 {
		rs.mu.Lock()
		for _, d := range digests {
			rs.allowed[d] = struct{}{}
		}
		rs.mu.Unlock()
	}
	return openForDownload(rs.store, rs.ns, rs.snap, name)
}

// chunk returns the stored bytes of chunk d (GET chunk?digest=): only
// digests of indexes downloaded in this session, others are a 401. The
// bytes are read into a buffer of the server's, which the caller hands
// back with rs.bufs.putBody once they are sent.
func (rs *readerSession) chunk(d datastore.Digest) ([]byte, error) {
	rs.mu.Lock()
	_, ok := rs.allowed[d]
	rs.mu.Unlock()
	if !ok {
		return nil, mockcore.Errorf(http.StatusUnauthorized, "download chunk %s not allowed", d)
	}
	// PBS sends the chunk file as it is, without checking it: detecting
	// a corrupt chunk is the client's job.
	path := rs.store.ChunkPath(d)
	data, err := rs.readChunkFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reading file %q failed: No such file or directory (os error 2)", path)
		}
		return nil, fmt.Errorf("reading file %q failed: %w", path, err)
	}
	return data, nil
}

// readChunkFile reads the file at path into a server buffer.
func (rs *readerSession) readChunkFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// One byte more than the file's size, to notice one that grew.
	buf := rs.bufs.body(int(st.Size()) + 1)
	n, err := io.ReadFull(f, buf)
	switch {
	case err == nil:
		rs.bufs.putBody(buf)
		return nil, fmt.Errorf("changed while being read")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return buf[:n], nil
	default:
		rs.bufs.putBody(buf)
		return nil, err
	}
}

// speedtest returns the body of GET speedtest.
func (rs *readerSession) speedtest() []byte { return bytes.Repeat([]byte{'A'}, speedtestSize) }

// end releases the snapshot lock once the session is over.
func (rs *readerSession) end() error { return rs.lock.Unlock() }
