package exampletest

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/chunker"
	"github.com/proxkit/proxkit/datastore"
)

// SeedStream stores data as the dynamic archive name (".didx" is added)
// of a new snapshot directly in the datastore directory storePath, the
// way a finished backup leaves it, so that tests of listing, verify and
// restore have something to work on without the backup protocol. owner
// is the group's owner (an auth id).
func SeedStream(t testing.TB, storePath string, ns datastore.Namespace, snap datastore.Snapshot, owner, name string, data []byte) {
	t.Helper()
	st, err := datastore.Open(storePath)
	require.NoError(t, err)
	w, err := st.BeginSnapshot(ns, snap, owner)
	require.NoError(t, err)
	file := datastore.ServerArchiveName(name, datastore.ArchiveDynamic)
	ix, err := w.CreateDynamicIndex(file)
	require.NoError(t, err)
	enc := datastore.NewBlobEncoder()
	s := chunker.NewStream(bytes.NewReader(data), chunker.DefaultAvgSize)
	var end uint64
	for {
		c, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		d, _, err := st.InsertData(enc, c.Data, true)
		require.NoError(t, err)
		end += uint64(len(c.Data))
		require.NoError(t, ix.Append(end, d))
	}
	csum, err := ix.Close()
	require.NoError(t, err)
	require.NoError(t, w.Commit(&datastore.Manifest{
		BackupType: string(snap.Type),
		BackupID:   snap.ID,
		BackupTime: snap.Time.Unix(),
		Files: []datastore.ManifestFile{{
			Filename:  file,
			CryptMode: datastore.CryptNone,
			Size:      end,
			Csum:      hex.EncodeToString(csum[:]),
		}},
	}))
}

// RandomData returns n pseudo-random bytes, the same for the same seed:
// data that neither compresses nor deduplicates.
func RandomData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for k := 0; k < 8 && i+k < n; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	return b
}
