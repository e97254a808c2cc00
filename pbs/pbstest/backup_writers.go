package pbstest

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/proxkit/proxkit/datastore"
)

// fixedWriter is an open fixed index of a session (pbs-protocol.md 3.3).
// slots mirrors the digests given to idx so the checksum can be checked
// before the file is committed.
type fixedWriter struct {
	name        string
	idx         *datastore.SnapshotFixedIndex
	size        uint64
	slots       []datastore.Digest
	appends     uint64
	smallChunks int
	incremental bool
	stats       datastore.UploadStats
}

// dynamicWriter is an open dynamic index of a session.
type dynamicWriter struct {
	name   string
	idx    *datastore.SnapshotDynamicIndex
	offset uint64
	count  uint64
	csum   datastore.DynamicChecksum
	stats  datastore.UploadStats
}

// createFixed opens a fixed index (POST fixed_index, pbs-protocol.md
// 3.5.4) and returns its writer id. With reuse-csum the index starts as a
// copy of the previous snapshot's index of the same name, whose checksum
// must match.
func (s *backupSession) createFixed(c fixedCreate) (int, error) {
	if typ, err := datastore.ParseArchiveName(c.name); err != nil || typ != datastore.ArchiveFixed {
		return 0, fmt.Errorf("wrong archive extension: '%s'", c.name)
	}
	var reuse *datastore.FixedIndex
	if c.reuseCsum != "" {
		if !s.hasPrev {
			return 0, errors.New("cannot reuse index - no valid previous backup exists")
		}
		ix, err := s.store.OpenFixedIndex(s.sw.Namespace(), s.prev, c.name)
		if err != nil {
			return 0, errors.New("cannot reuse index - no previous backup exists for archive")
		}
		sum := ix.Checksum()
		if old := hex.EncodeToString(sum[:]); old != c.reuseCsum {
			return 0, fmt.Errorf("expected csum (%s) doesn't match last backup's (%s), cannot do incremental backup", c.reuseCsum, old)
		}
		reuse = ix
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureOpen(); err != nil {
		return 0, err
	}
	idx, err := s.sw.CreateFixedIndex(c.name, c.size)
	if err != nil {
		return 0, err
	}
	w := &fixedWriter{name: c.name, idx: idx, size: c.size, slots: make([]datastore.Digest, idx.Count()), incremental: reuse != nil}
	if reuse != nil {
		if reuse.Count() != idx.Count() {
			idx.Abort()
			return 0, errors.New("clone_data_from failed - index sizes not equal")
		}
		for i := range w.slots {
			w.slots[i] = reuse.Digest(i)
			if err := idx.SetDigest(i, w.slots[i]); err != nil {
				idx.Abort()
				return 0, err
			}
		}
	}
	s.lastWID++
	s.fixed[s.lastWID] = w
	return s.lastWID, nil
}

// createDynamic opens a dynamic index (POST dynamic_index) and returns
// its writer id.
func (s *backupSession) createDynamic(name string) (int, error) {
	if typ, err := datastore.ParseArchiveName(name); err != nil || typ != datastore.ArchiveDynamic {
		return 0, fmt.Errorf("wrong archive extension: '%s'", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureOpen(); err != nil {
		return 0, err
	}
	idx, err := s.sw.CreateDynamicIndex(name)
	if err != nil {
		return 0, err
	}
	s.lastWID++
	s.dynamic[s.lastWID] = &dynamicWriter{name: name, idx: idx}
	return s.lastWID, nil
}

// registerChunk records a chunk uploaded for writer wid (the last step
// of POST fixed_chunk / dynamic_chunk, pbs-protocol.md 3.5.6): the
// writer's statistics, the fixed writers' size rules, and the digest as
// known to the session, so appends may use it.
func (s *backupSession) registerChunk(fixed bool, c chunkUpload, encoded int, duplicate bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureOpen(); err != nil {
		return err
	}
	var stats *datastore.UploadStats
	if fixed {
		w := s.fixed[c.wid]
		if w == nil {
			return fmt.Errorf("fixed writer '%d' not registered", c.wid)
		}
		if c.size > datastore.FixedChunkSize {
			return fmt.Errorf("fixed writer '%s' - got large chunk (%d > %d", w.name, c.size, datastore.FixedChunkSize)
		}
		if c.size < datastore.FixedChunkSize {
			w.smallChunks++
			if w.smallChunks > 1 {
				return fmt.Errorf("fixed writer '%d' - detected multiple end chunks (chunk size too small)", c.wid)
			}
		}
		stats = &w.stats
	} else {
		w := s.dynamic[c.wid]
		if w == nil {
			return fmt.Errorf("dynamic writer '%d' not registered", c.wid)
		}
		stats = &w.stats
	}
	stats.Count++
	stats.Size += uint64(c.size)
	stats.CompressedSize += uint64(encoded)
	if duplicate {
		stats.Duplicates++
	}
	s.known[c.digest] = uint32(c.size)
	return nil
}

// appendChunks places known chunks into an index (PUT fixed_index /
// dynamic_index, pbs-protocol.md 3.5.7). Entries are applied in order; an
// error stops at its position and earlier entries stay applied, as on PBS.
func (s *backupSession) appendChunks(fixed bool, req appendRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, d := range req.digests {
		if err := s.ensureOpen(); err != nil {
			return err
		}
		size, ok := s.known[d]
		if !ok {
			return fmt.Errorf("no such chunk %s", d)
		}
		var err error
		if fixed {
			err = s.appendFixed(req.wid, req.offsets[i], uint64(size), d)
		} else {
			err = s.appendDynamic(req.wid, req.offsets[i], uint64(size), d)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// appendDynamic appends one chunk at start offset to dynamic writer wid:
// offsets must be contiguous, and the index stores the chunk's end.
func (s *backupSession) appendDynamic(wid int, offset, size uint64, d datastore.Digest) error {
	w := s.dynamic[wid]
	if w == nil {
		return fmt.Errorf("dynamic writer '%d' not registered", wid)
	}
	if w.offset != offset {
		return fmt.Errorf("dynamic writer '%s' append chunk failed - got strange chunk offset (%d != %d)", w.name, w.offset, offset)
	}
	end := w.offset + size
	if err := w.idx.Append(end, d); err != nil {
		return fmt.Errorf("dynamic writer '%s' append chunk failed - %w", w.name, err)
	}
	w.offset = end
	w.count++
	w.csum.Add(end, d)
	return nil
}

// appendFixed writes one chunk at start offset into its slot of fixed
// writer wid, with the alignment rules of PBS's fixed index writer: every
// chunk is 4 MiB but the one ending at the image size, and starts on a
// 4 MiB boundary.
func (s *backupSession) appendFixed(wid int, offset, size uint64, d datastore.Digest) error {
	w := s.fixed[wid]
	if w == nil {
		return fmt.Errorf("fixed writer '%d' not registered", wid)
	}
	const chunk = datastore.FixedChunkSize
	end := offset + size
	switch {
	case end < offset:
		return fmt.Errorf("got chunk with small offset (%d < %d", end, size)
	case end > w.size:
		return fmt.Errorf("chunk data exceeds size (%d >= %d)", end, w.size)
	case end != w.size && size != chunk, size > chunk, size == 0:
		return fmt.Errorf("chunk with unexpected length (%d != %d", size, chunk)
	case offset%chunk != 0:
		return fmt.Errorf("got unaligned chunk (pos = %d)", offset)
	}
	slot := int(offset / chunk)
	if err := w.idx.SetDigest(slot, d); err != nil {
		return err
	}
	w.slots[slot] = d
	w.appends++
	return nil
}

// closeDynamic closes dynamic writer c.wid (POST dynamic_close,
// pbs-protocol.md 3.5.8) after checking the client's chunk count, size
// and index checksum against what the server appended. The writer is gone
// afterwards either way; a failed close leaves no file behind.
func (s *backupSession) closeDynamic(c indexClose) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureOpen(); err != nil {
		return err
	}
	w := s.dynamic[c.wid]
	if w == nil {
		return fmt.Errorf("dynamic writer '%d' not registered", c.wid)
	}
	delete(s.dynamic, c.wid)
	var err error
	switch {
	case w.count != c.chunkCount:
		err = fmt.Errorf("dynamic writer '%s' close failed - unexpected chunk count (%d != %d)", w.name, w.count, c.chunkCount)
	case w.offset != c.size:
		err = fmt.Errorf("dynamic writer '%s' close failed - unexpected file size (%d != %d)", w.name, w.offset, c.size)
	case w.csum.Sum() != c.csum:
		err = fmt.Errorf("dynamic writer '%s' close failed - got unexpected checksum", w.name)
	}
	if err != nil {
		return errors.Join(err, w.idx.Abort())
	}
	if err := s.commitIndex(w.name, w.csum.Sum(), w.idx.Close); err != nil {
		return err
	}
	s.closed(w.stats)
	return nil
}

// closeFixed closes fixed writer c.wid (POST fixed_close): the chunk
// count must equal the appends received; a non-incremental writer must
// also have seen every slot once and the declared size; the checksum
// covers all slots.
func (s *backupSession) closeFixed(c indexClose) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureOpen(); err != nil {
		return err
	}
	w := s.fixed[c.wid]
	if w == nil {
		return fmt.Errorf("fixed writer '%d' not registered", c.wid)
	}
	delete(s.fixed, c.wid)
	var sum datastore.FixedChecksum
	for _, d := range w.slots {
		sum.Add(d)
	}
	var err error
	switch {
	case w.appends != c.chunkCount:
		err = fmt.Errorf("fixed writer '%s' close failed - received wrong number of chunk (%d != %d)", w.name, w.appends, c.chunkCount)
	case !w.incremental && c.chunkCount != uint64(len(w.slots)):
		err = fmt.Errorf("fixed writer '%s' close failed - unexpected chunk count (%d != %d)", w.name, len(w.slots), c.chunkCount)
	case !w.incremental && c.size != w.size:
		err = fmt.Errorf("fixed writer '%s' close failed - unexpected file size (%d != %d)", w.name, w.size, c.size)
	case sum.Sum() != c.csum:
		err = fmt.Errorf("fixed writer '%s' close failed - got unexpected checksum", w.name)
	}
	if err != nil {
		return errors.Join(err, w.idx.Abort())
	}
	if err := s.commitIndex(w.name, sum.Sum(), w.idx.Close); err != nil {
		return err
	}
	s.closed(w.stats)
	return nil
}

// commitIndex closes an index file and double-checks that the file's
// checksum is the one the session computed.
func (s *backupSession) commitIndex(name string, want [32]byte, closeIdx func() ([32]byte, error)) error {
	got, err := closeIdx()
	if err != nil {
		return fmt.Errorf("close of index %q failed: %w", name, err)
	}
	if got != want {
		return fmt.Errorf("pbstest: index %q written with checksum %x, session computed %x", name, got, want)
	}
	return nil
}

// closed accounts a successfully closed index. The caller holds s.mu.
func (s *backupSession) closed(st datastore.UploadStats) {
	s.fileCount++
	s.stats.Count += st.Count
	s.stats.Size += st.Size
	s.stats.CompressedSize += st.CompressedSize
	s.stats.Duplicates += st.Duplicates
}
