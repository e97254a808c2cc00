package pbs

import (
	"fmt"

	"github.com/proxkit/proxkit/chunker"
	"github.com/proxkit/proxkit/internal/options"
)

// Compression says when chunks are zstd-compressed. Whatever the choice,
// a chunk is only ever stored compressed when that makes it strictly
// smaller (pbs-protocol.md 5.1), so every setting produces valid chunks.
type Compression int

const (
	// CompressAuto compresses a chunk when a sample of it compresses;
	// chunks that look incompressible (already compressed or encrypted
	// data) are sent as they are, which saves most of the CPU time zstd
	// would spend failing on them. The default.
	CompressAuto Compression = iota
	// CompressAlways tries zstd on every chunk, as proxmox-backup-client
	// does.
	CompressAlways
	// CompressNever sends every chunk uncompressed.
	CompressNever
)

// String returns "auto", "always" or "never".
func (c Compression) String() string {
	switch c {
	case CompressAuto:
		return "auto"
	case CompressAlways:
		return "always"
	case CompressNever:
		return "never"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// UploadOption adjusts one UploadStream, UploadImage or CreateDynamicArchive
// / CreateFixedArchive call.
type UploadOption func(*uploadConfig) error

// uploadConfig is what the options of one archive upload set.
type uploadConfig struct {
	avgChunkSize int
	compression  Compression
	noReuse      bool
	dirty        func(chunk int) bool
}

func newUploadConfig(opts []UploadOption) (uploadConfig, error) {
	cfg := uploadConfig{avgChunkSize: chunker.DefaultAvgSize}
	err := options.Apply(&cfg, opts)
	return cfg, err
}

// WithAverageChunkSize sets the average chunk size of UploadStream: a power
// of two from 64 KiB to 4 MiB (default 4 MiB, as proxmox-backup-client's
// --chunk-size). Images always use 4 MiB chunks.
func WithAverageChunkSize(n int) UploadOption {
	return func(c *uploadConfig) error {
		if _, err := chunker.New(n); err != nil {
			return fmt.Errorf("pbs: WithAverageChunkSize: %w", err)
		}
		c.avgChunkSize = n
		return nil
	}
}

// WithCompression chooses when chunks are compressed (default
// CompressAuto).
func WithCompression(mode Compression) UploadOption {
	return func(c *uploadConfig) error {
		if mode < CompressAuto || mode > CompressNever {
			return fmt.Errorf("pbs: WithCompression: unknown mode %d", int(mode))
		}
		c.compression = mode
		return nil
	}
}

// WithoutReuse uploads the archive without consulting the previous
// snapshot: every chunk not uploaded earlier in this session is sent, as
// proxmox-backup-client does for its catalog. The server still stores
// each chunk only once.
func WithoutReuse() UploadOption {
	return func(c *uploadConfig) error {
		c.noReuse = true
		return nil
	}
}

// WithDirtyChunks makes UploadImage incremental in the way Proxmox VE
// backs up VM disks with a dirty bitmap (pbs-protocol.md 3.5.4, 3.9.2):
// dirty(i) reports whether the 4 MiB chunk i may have changed since the
// previous snapshot of the group. If that snapshot holds the same archive
// with the same size, the new index starts as a copy of its index
// (reuse-csum) and only the dirty chunks are read and sent; otherwise the
// whole image is uploaded as usual. The image must be an io.ReaderAt.
//
// dirty must be right: a changed chunk it calls clean keeps its old
// content in the new snapshot.
func WithDirtyChunks(dirty func(chunk int) bool) UploadOption {
	return func(c *uploadConfig) error {
		if dirty == nil {
			return fmt.Errorf("pbs: WithDirtyChunks: nil function")
		}
		c.dirty = dirty
		return nil
	}
}
