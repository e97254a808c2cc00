package exampletest

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
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
