package chunker

import (
	"errors"
	"fmt"
)

// Chunk sizes the Proxmox Backup client works with.
const (
	// MinAvgSize is the smallest average chunk size proxmox-backup-client
	// accepts (its chunk-size option is 64..4096 KiB, a power of two).
	MinAvgSize = 64 << 10
	// MaxAvgSize is the largest average chunk size proxmox-backup-client accepts.
	MaxAvgSize = 4 << 20
	// DefaultAvgSize is the client's default average chunk size.
	DefaultAvgSize = 4 << 20
	// DefaultFixedSize is the chunk size of fixed indexes (VM and block
	// device images); a PBS server accepts no other for them.
	DefaultFixedSize = 4 << 20
	// MaxChunkSize is the largest chunk a PBS server accepts, and the maximum
	// dynamic chunk size at the largest average (4 * MaxAvgSize).
	MaxChunkSize = 16 << 20
)

// ErrInvalidSize is matched (with errors.Is) by every *SizeError.
var ErrInvalidSize = errors.New("chunker: invalid chunk size")

// SizeError reports a chunk size the chunker does not accept, naming the
// sizes it does.
type SizeError struct {
	Kind string // "average chunk size" or "fixed chunk size"
	Size int    // the rejected value
	Want string // the accepted values
}

// Error says which size was refused and which are accepted.
func (e *SizeError) Error() string {
	return fmt.Sprintf("chunker: invalid %s %d: must be %s", e.Kind, e.Size, e.Want)
}

// Is makes errors.Is(err, ErrInvalidSize) true.
func (e *SizeError) Is(target error) bool { return target == ErrInvalidSize }

// checkAvgSize accepts exactly the averages the Rust client accepts.
func checkAvgSize(avg int) error {
	if avg < MinAvgSize || avg > MaxAvgSize || avg&(avg-1) != 0 {
		return &SizeError{
			Kind: "average chunk size",
			Size: avg,
			Want: "a power of two from 64 KiB (65536) to 4 MiB (4194304)",
		}
	}
	return nil
}

// checkFixedSize accepts any size a PBS server could store as one chunk;
// only DefaultFixedSize works for a fixed index on a real server.
func checkFixedSize(size int) error {
	if size < 1 || size > MaxChunkSize {
		return &SizeError{
			Kind: "fixed chunk size",
			Size: size,
			Want: "from 1 to 16 MiB (16777216); 0 selects 4 MiB",
		}
	}
	return nil
}
