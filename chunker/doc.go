// Package chunker cuts data into chunks exactly where Proxmox Backup
// Server's own client does, so that chunks we upload deduplicate against
// chunks it stored, and the other way round.
//
// Two splitters exist, as in PBS:
//
//   - NewStream cuts content-defined chunks for dynamic indexes (.didx: file
//     archives, catalogs). Boundaries depend only on the bytes, so an insertion
//     early in a file changes the chunks around it, not all the ones after.
//   - NewFixed cuts equal pieces for fixed indexes (.fidx: VM and block
//     device images), 4 MiB each, the last one shorter.
//
// Both return a *Stream whose Next hands out one Chunk at a time:
//
//	s := chunker.NewStream(f, chunker.DefaultAvgSize)
//	for {
//		c, err := s.Next()
//		if err == io.EOF {
//			break
//		}
//		if err != nil {
//			return err
//		}
//		digest := sha256.Sum256(c.Data) // c.Data is valid until the next Next
//		...
//	}
//
// Chunker is the boundary finder underneath, for callers that manage their
// own buffers.
//
// # The rolling hash
//
// The hash is a "buzhash" (cyclic polynomial) over the last 64 bytes, with
// the 256-entry table T of the PBS sources (spec section 6.1). Writing rotl
// for a 32-bit rotation left and b[i] for the input bytes, after byte n it
// is
//
//	h(n) = rotl(T[b[n-64]], 63) ^ rotl(T[b[n-63]], 62) ^ ... ^ rotl(T[b[n-1]], 0)
//
// and moving on by one byte is h(n+1) = rotl(h(n), 1) ^ T[b[n-64]] ^ T[b[n]]:
// the rotation ages every term by one, the leaving byte's term has been
// rotated 64 times, which for 32 bits is no rotation at all, so XORing
// T[b[n-64]] removes it, and the entering byte comes in unrotated.
//
// A chunk of n bytes ends after byte n when n reaches the maximum avg*4, or
// when n is at least the minimum avg/4 and (h & mask) >= mask-2, with mask =
// 2*avg-1. That test holds for the three values mask-2, mask-1 and mask: bits
// 2 to log2(avg) of h all set and its two lowest bits not both clear. For
// random data it fires with probability 3/(2*avg) per byte, so a chunk is
// about avg/4 + 2*avg/3 bytes long on average, less after the cap at avg*4.
// The hash restarts from zero for every chunk. Constant data hashes to zero
// (each table value appears at rotations k and k+32, which cancel), so it is
// only cut at the maximum.
//
// # Why skipping is exact
//
// h(n) depends on the 64 bytes before n and on nothing else. No byte before
// the minimum can end a chunk, so the first hash that matters is h(min),
// which depends on bytes min-64 .. min-1 only. Scan therefore jumps over the
// first min-64 bytes of every chunk without looking at them, then builds
// h(min) from its 64 bytes directly, and rolls from there. With the default
// 4 MiB average that skips about a quarter of all input.
//
// # Making the rolling loop fast
//
// The remaining loop reads the leaving byte from the input 64 bytes back
// rather than from a copy of the window; only the first 64 bytes of a call
// need the saved window, because their leaving bytes came in an earlier
// buffer. It keeps the complement g = ^h, which obeys the same recurrence,
// so the cut test becomes g&hi == 0 (hi = mask without its two lowest bits)
// followed, rarely, by a look at the low bits. And it advances 32 bytes per
// round, one full turn of the rotation, keeping rotr(g, j) after step j
// instead of g: the rotation then applies to the incoming terms, by a
// constant, and the dependent chain from one byte to the next is one XOR.
// Each position is first tested against the bits every offered average
// needs (those of 64 KiB), a constant; only when those pass, once in 2^15
// positions on random data, is the round replayed with the exact test.
//
// On amd64 CPUs with AVX-512 VBMI a vector loop goes first, 64 positions per
// block: the table is split into four byte planes that byte permutes look up
// 64 bytes at a time, the per-position terms are rotated and prefix-XORed
// across the block, and every position gets the same constant prefilter.
// Blocks without a hit are taken whole; the first block with one goes to the
// loop above, and the vector loop resumes after it. The result is tested
// boundary for boundary against a literal transcription of the spec and
// against vectors made by the Rust implementation.
//
// # Buffers
//
// A Stream reads into a buffer of at most twice the maximum chunk size
// (32 MiB for the 4 MiB default; a fixed-size Stream holds one chunk) and
// returns chunks as slices of it, so in steady state Next neither copies nor
// allocates. The flip side: Chunk.Data is valid only until the next call to
// Next or Reset. Reset reuses a Stream and its buffer for another input.
package chunker
