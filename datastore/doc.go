// Package datastore implements the data model and on-disk layout of Proxmox
// Backup Server (PBS): the byte formats every PBS client and server share,
// and a datastore directory that a real PBS could use.
//
// # Formats
//
// Everything byte-exact with PBS 3.2.4 (spec section 5):
//
//   - DataBlobs, the container of every chunk and every .blob file: an
//     8-byte magic per variant, a CRC-32 and the data, zstd-compressed
//     only when that is strictly shorter (BlobEncoder, BlobDecoder,
//     ParseBlobHeader, CheckBlobCRC). Encrypted blobs are recognised but
//     not decrypted yet (ErrEncrypted).
//   - Chunk digests (Digest, ComputeDigest): SHA-256 of the plain data.
//   - Fixed indexes (.fidx, images) and dynamic indexes (.didx, pxar
//     archives and catalogs): readers with O(1) and O(log n) offset lookup
//     that hold the entries in memory (ReadFixedIndex, ReadDynamicIndex)
//     or read them on demand through an io.ReaderAt, as PBS maps index
//     files (NewFixedIndexReader, NewDynamicIndexReader), writers
//     (NewFixedIndexWriter, NewDynamicIndexWriter), and the index checksums
//     the manifest records (FixedChecksum, DynamicChecksum).
//   - The manifest index.json.blob (Manifest, ParseManifest,
//     DecodeManifestBlob), serialized exactly as PBS writes it, and the
//     canonical JSON its signature covers (CanonicalJSON, SigningBytes).
//   - Names (spec 7.2): namespaces, groups, snapshots, backup times and
//     archive names, validated by PBS's rules (ParseNamespace, ParseGroup,
//     ParseSnapshot, ParseArchiveName).
//
// Restoring one chunk of an image:
//
//	ix, err := datastore.OpenFixedIndex("disk.img.fidx")
//	...
//	slot, within, ok := ix.ChunkFor(offset)
//	start, end := ix.ChunkRange(slot)
//	blob := ... // the chunk file .chunks/<first 4 hex>/<digest>
//	data, err := dec.DecodeChunk(buf, blob, ix.Digest(slot), int(end-start))
//	// data[within:] is the image from offset on
//
// Decoders never trust sizes they have not checked: an index header is
// compared with the file length before anything is allocated for it, a
// zstd frame may not claim more than MaxBlobSize, than the expected chunk
// size, or than its compressed length could possibly expand to. Every
// parser is fuzzed.
//
// BlobEncoder and BlobDecoder each own one zstd coder and reuse it and the
// caller's buffers; they are not safe for concurrent use, so give every
// worker its own.
//
// # The store
//
// Store (Create, Open) is a datastore directory in PBS's layout (spec 7):
// the chunk store .chunks/xxxx/<digest> with PBS's insert rules,
// namespaces, groups and snapshots, owners, notes and protection, snapshot
// writers that commit atomically, and verification, garbage collection and
// prune that behave like the server's, including its locks, so that a
// store can be shared with a running PBS or copied from one.
//
// # Errors
//
// Format problems are *FormatError values that name what was being read,
// where, and one of the sentinels ErrBadMagic, ErrChecksum, ErrTruncated,
// ErrEncrypted, ErrTooLarge, ErrDigestMismatch, ErrSizeMismatch,
// ErrCorrupt, ErrBadIndex, ErrBadManifest or ErrBadName; test them with
// errors.Is. I/O errors of the underlying readers and writers are returned
// unchanged. Store operations have their own error types and sentinels.
package datastore
