package pbs

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/proxkit/proxkit/datastore"
)

// MaxBlobSize is the largest encoded blob the backup protocol accepts
// (16 MiB plus the largest blob header, pbs-protocol.md 3.5.3).
const MaxBlobSize = 16<<20 + 44

// UploadBlob stores data as the blob name of the snapshot (".blob" is
// added when missing, e.g. "qemu-server.conf" becomes
// "qemu-server.conf.blob"), zstd-compressed when that makes it smaller, as
// proxmox-backup-client stores configs and logs (PBS: POST blob with
// file-name and encoded-size). Its manifest entry lists the size and
// SHA-256 of the encoded blob. The encoded blob may be at most MaxBlobSize
// bytes. A failure aborts the session.
func (s *BackupSession) UploadBlob(ctx context.Context, name string, data []byte) (*UploadResult, error) {
	began := time.Now()
	name = datastore.ServerArchiveName(name, datastore.ArchiveBlob)
	if t, err := datastore.ParseArchiveName(name); err != nil {
		return nil, fmt.Errorf("pbs: %w", err)
	} else if t != datastore.ArchiveBlob {
		return nil, fmt.Errorf("pbs: blob name %s does not end in .blob", name)
	}
	enc := s.env.getEncoder()
	blob, err := enc.encode(nil, data, CompressAlways)
	s.env.putEncoder(enc)
	if err != nil {
		return nil, fmt.Errorf("pbs: encode %s: %w", name, err)
	}
	if len(blob) > MaxBlobSize {
		return nil, fmt.Errorf("pbs: blob %s encodes to %d bytes, more than the %d the server accepts", name, len(blob), MaxBlobSize)
	}
	if err := s.reserve(name, false); err != nil {
		return nil, err
	}
	s.env.meter.addRead(len(data))
	if err := s.postBlob(ctx, name, blob); err != nil {
		return nil, s.fail(fmt.Errorf("pbs: upload %s: %w", name, err))
	}
	sum := sha256.Sum256(blob)
	file := datastore.ManifestFile{
		Filename: name, CryptMode: datastore.CryptNone,
		Size: uint64(len(blob)), Csum: datastore.Digest(sum).String(),
	}
	s.addFile(file)
	stats := UploadStats{Bytes: int64(len(data)), NewBytes: int64(len(data)), UploadedBytes: int64(len(blob))}
	s.env.meter.record(stats)
	stats.Duration = time.Since(began)
	return &UploadResult{File: file, Stats: stats}, nil
}

// postBlob uploads an encoded blob (PBS: POST blob).
func (s *BackupSession) postBlob(ctx context.Context, name string, blob []byte) error {
	q := url.Values{"file-name": {name}, "encoded-size": {strconv.Itoa(len(blob))}}
	return s.sess.call(ctx, http.MethodPost, "/blob", q, octetType, blob, nil)
}
