package datastore

import (
	"bytes"
	"testing"
)

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(manifestTestFullJSON))
	f.Add([]byte(`{"backup-type":"host","backup-id":"a","backup-time":1,"files":[],"unprotected":{"x":[1.5e3,-0,"\u00e9"]}}`))
	f.Add([]byte(`{"a":[{"b":null}]}`))
	f.Add([]byte(`[[[[[[[[[[]]]]]]]]]]`))
	f.Add([]byte(`"\ud83d\ude00"`))
	f.Fuzz(func(t *testing.T, in []byte) {
		canon, err := CanonicalJSON(in)
		if err != nil {
			formatTestTyped(t, err)
		} else {
			// Canonical JSON is a fixed point.
			again, err := CanonicalJSON(canon)
			if err != nil || !bytes.Equal(again, canon) {
				t.Fatalf("canonical form not stable: %q -> %q (%v)", canon, again, err)
			}
		}

		m, err := ParseManifest(in)
		if err != nil {
			formatTestTyped(t, err)
			return
		}
		// A parsed manifest marshals, and parsing that gives the same JSON.
		out, err := m.MarshalJSON()
		if err != nil {
			t.Fatalf("parsed manifest does not marshal: %v", err)
		}
		m2, err := ParseManifest(out)
		if err != nil {
			t.Fatalf("marshaled manifest does not parse: %v\n%s", err, out)
		}
		out2, err := m2.MarshalJSON()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("marshal not stable:\n%s\n%s", out, out2)
		}
		if _, err := m.SigningBytes(); err != nil {
			t.Fatalf("signing bytes: %v", err)
		}
	})
}
