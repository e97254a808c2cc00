package pbs

import (
	"sync"
	"sync/atomic"
	"time"
)

// UploadStats counts what an upload did, for one archive or a whole backup.
type UploadStats struct {
	// Chunks is the number of chunks appended to indexes: NewChunks +
	// ReusedChunks.
	Chunks int64
	// NewChunks is the number of chunks uploaded. A chunk that occurs
	// twice is uploaded once.
	NewChunks int64
	// ReusedChunks is the number of chunks the server already had in this
	// session (from the previous snapshot, or uploaded earlier in it), so
	// that only their digests were sent.
	ReusedChunks int64
	// Bytes is the plain size of the data appended to indexes and of the
	// blobs uploaded (for an image sent with WithDirtyChunks, only its
	// dirty chunks).
	Bytes int64
	// NewBytes is the plain size of the chunks and blobs uploaded
	// (Bytes minus what was reused).
	NewBytes int64
	// UploadedBytes is what was sent for them: chunk and blob bodies as
	// encoded, that is after compression and with their headers.
	UploadedBytes int64
	// Duration is the time the upload took; for a whole backup, from
	// StartBackup to the end of Finish.
	Duration time.Duration
}

// add sums o into s (Duration excepted).
func (s *UploadStats) add(o UploadStats) {
	s.Chunks += o.Chunks
	s.NewChunks += o.NewChunks
	s.ReusedChunks += o.ReusedChunks
	s.Bytes += o.Bytes
	s.NewBytes += o.NewBytes
	s.UploadedBytes += o.UploadedBytes
}

// Progress is a snapshot of a running backup, handed to
// BackupOptions.Progress. All counts cover the whole session so far.
type Progress struct {
	// BytesRead is the plain data taken from the sources, including
	// chunks still being hashed or uploaded.
	BytesRead int64
	// NewChunks counts the chunks appended so far that were uploaded.
	NewChunks int64
	// ReusedChunks counts the chunks appended so far by digest alone.
	ReusedChunks int64
	// UploadedBytes is the encoded size of the chunks and blobs uploaded
	// and answered so far.
	UploadedBytes int64
}

// progressMeter keeps the session-wide counters and calls the callback,
// never twice at the same time.
type progressMeter struct {
	read   atomic.Int64
	fn     func(Progress)
	mu     sync.Mutex // serialises fn and guards totals
	totals UploadStats
}

// addRead counts plain bytes taken from a source.
func (m *progressMeter) addRead(n int) { m.read.Add(int64(n)) }

// record adds what an archive or blob did and reports progress.
func (m *progressMeter) record(delta UploadStats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.totals.add(delta)
	if m.fn == nil {
		return
	}
	p := Progress{
		BytesRead:     m.read.Load(),
		NewChunks:     m.totals.NewChunks,
		ReusedChunks:  m.totals.ReusedChunks,
		UploadedBytes: m.totals.UploadedBytes,
	}
	m.fn(p)
}

// snapshot returns the totals so far.
func (m *progressMeter) snapshot() UploadStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.totals
}
