package datastore

import (
	"testing"
)

func FuzzParseNames(f *testing.F) {
	for _, s := range []string{"", "a/b", "host/web01", "vm/100/2026-11-22T10:00:00Z", "disk.img.fidx",
		"1/2/3/4/5/6/7/8", "host/x/2026-02-30T00:00:00Z", "ns/a", ".blob"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ns, err := ParseNamespace(s); err != nil {
			formatTestTyped(t, err)
		} else {
			if ns.String() != s || ns.Depth() > MaxNamespaceDepth || len(s) > MaxNamespaceLength {
				t.Fatalf("namespace %q accepted as %q", s, ns)
			}
			if again, err := ParseNamespace(ns.Parent().String()); err != nil || again != ns.Parent() {
				t.Fatalf("parent of %q does not parse", s)
			}
		}
		if g, err := ParseGroup(s); err != nil {
			formatTestTyped(t, err)
		} else if g.String() != s {
			t.Fatalf("group %q printed as %q", s, g)
		}
		if snap, err := ParseSnapshot(s); err != nil {
			formatTestTyped(t, err)
		} else if snap.String() != s {
			t.Fatalf("snapshot %q printed as %q", s, snap)
		}
		if ty, err := ParseArchiveName(s); err != nil {
			formatTestTyped(t, err)
		} else if ServerArchiveName(s, ty) != s {
			t.Fatalf("archive %q changed by ServerArchiveName", s)
		}
		if d, err := ParseDigest(s); err != nil {
			formatTestTyped(t, err)
		} else if d.String() != s {
			t.Fatalf("digest %q printed as %q", s, d)
		}
	})
}
