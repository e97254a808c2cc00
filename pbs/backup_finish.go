package pbs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/proxkit/proxkit/datastore"
)

// ErrNothingToFinish: Finish was called on a session without a single
// closed archive or uploaded blob; PBS refuses to keep such a snapshot.
var ErrNothingToFinish = errors.New("pbs: backup contains no files")

// BackupResult is what a finished backup session stored.
type BackupResult struct {
	// Namespace is the namespace of the new snapshot.
	Namespace datastore.Namespace
	// Snapshot is the new snapshot.
	Snapshot datastore.Snapshot
	// Manifest is the manifest as uploaded: every archive and blob with
	// its size and checksum, in the order they completed. (The server
	// adds its upload statistics to the stored copy.)
	Manifest *datastore.Manifest
	// Stats sums the uploads of the session; Duration runs from
	// StartBackup to the end of Finish.
	Stats UploadStats
}

// Finish completes the backup: it uploads the manifest index.json.blob,
// listing every closed archive and uploaded blob with its size and
// checksum, and then asks the server to finish (PBS: POST blob
// file-name=index.json.blob, POST finish), after which the snapshot is
// visible. Every archive writer must be closed (ErrNothingToFinish if
// there is no file at all; both are refused before anything is sent).
// If the manifest upload or finish fails, the session is aborted and the
// server discards the snapshot. The connection is closed in every case
// but those two refusals.
func (s *BackupSession) Finish(ctx context.Context) (*BackupResult, error) {
	m, err := s.beginFinish()
	if err != nil {
		return nil, err
	}
	blob, err := m.EncodeBlob(nil)
	if err != nil {
		return nil, s.fail(fmt.Errorf("pbs: encode manifest: %w", err))
	}
	if err := s.postBlob(ctx, datastore.ManifestName, blob); err != nil {
		return nil, s.fail(fmt.Errorf("pbs: upload manifest: %w", err))
	}
	if err := s.sess.call(ctx, http.MethodPost, "/finish", nil, formType, nil, nil); err != nil {
		return nil, s.fail(fmt.Errorf("pbs: finish: %w", err))
	}
	s.mu.Lock()
	s.state = stateFinished
	s.mu.Unlock()
	s.shutdown(ErrFinished)
	stats := s.env.meter.snapshot()
	stats.Duration = time.Since(s.begin)
	return &BackupResult{Namespace: s.ns, Snapshot: s.snap, Manifest: m, Stats: stats}, nil
}

// beginFinish checks that the session can finish, stops further uploads
// and builds the manifest.
func (s *BackupSession) beginFinish() (*datastore.Manifest, error) {
	if s.parent.Err() != nil {
		s.abortByContext()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return nil, err
	}
	if len(s.open) > 0 {
		open := make([]string, 0, len(s.open))
		for name := range s.open {
			open = append(open, name)
		}
		slices.Sort(open)
		return nil, fmt.Errorf("pbs: cannot finish while archives are being written: %v", open)
	}
	if len(s.files) == 0 {
		return nil, ErrNothingToFinish
	}
	s.state = stateFinishing
	return &datastore.Manifest{
		BackupType: string(s.snap.Type),
		BackupID:   s.snap.ID,
		BackupTime: s.snap.Time.Unix(),
		Files:      slices.Clone(s.files),
	}, nil
}
