package pbs

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWireNamespaceAndFiles(t *testing.T) {
	var items []namespaceItem
	require.NoError(t, json.Unmarshal([]byte(`[{"ns":""},{"ns":"a"},{"ns":"a/b","comment":"c"}]`), &items))
	require.Len(t, items, 3)
	assert.True(t, items[0].NS.ns.IsRoot())
	assert.Equal(t, "a/b", items[2].NS.ns.String())
	assert.Equal(t, "c", items[2].Comment)
	for _, bad := range []string{`[{"ns":"a/"}]`, `[{"ns":"-a"}]`, `[{"ns":1}]`, `[{"ns":"a/b/c/d/e/f/g/h"}]`} {
		assert.Error(t, json.Unmarshal([]byte(bad), &items), bad)
	}

	var files dsFiles
	require.NoError(t, json.Unmarshal([]byte(`[{"filename":"a.didx","crypt-mode":"none","size":3},{"filename":"b.blob"}]`), &files))
	assert.Len(t, files, 2)
	assert.Error(t, json.Unmarshal([]byte(`[{"filename":"a.didx","crypt-mode":"aes"}]`), &files))
	assert.Error(t, json.Unmarshal([]byte(`[{"size":1}]`), &files))
}

// FuzzDatastoreWire decodes arbitrary input as the namespace and file
// lists of the datastore calls: never a panic, and a decoded namespace is
// always valid.
func FuzzDatastoreWire(f *testing.F) {
	for _, s := range []string{`[{"ns":"a/b","comment":"x"}]`, `"a/b"`, `[{"filename":"x.fidx","crypt-mode":"sign-only","size":1}]`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var items []namespaceItem
		if json.Unmarshal(b, &items) == nil {
			for _, it := range items {
				if it.NS.ns.Depth() > 7 {
					t.Fatalf("namespace %q too deep", it.NS.ns)
				}
			}
		}
		var one wireNamespace
		_ = json.Unmarshal(b, &one)
		var files dsFiles
		if json.Unmarshal(b, &files) == nil {
			for _, f := range files {
				if f.Filename == "" || (f.CryptMode != "" && !f.CryptMode.Valid()) {
					t.Fatalf("bad file entry %+v accepted", f)
				}
			}
		}
	})
}
