package datastore

import (
	"errors"
	"testing"
)

// Fuzz targets for the on-disk text this half of the package decodes: the
// owner file, .gc-status and chunk file names. Each must never panic, and
// reject bad input with its typed error.

func FuzzParseOwner(f *testing.F) {
	for _, seed := range []string{"test@pbs\n", "root@pam", "user@pbs!token\r\n", "", "\n", "a\x00b", "\xff@pbs"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		owner, err := ParseOwner(data)
		if err != nil {
			if !errors.Is(err, ErrBadOwner) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if owner == "" {
			t.Fatal("empty owner accepted")
		}
		// What we read we can write and read back.
		if err := checkOwner(owner); err != nil {
			t.Fatalf("owner %q does not round-trip: %v", owner, err)
		}
	})
}

func FuzzParseGCStatus(f *testing.F) {
	for _, seed := range []string{
		`{"upid":"UPID:x","index-file-count":1,"index-data-bytes":2,"disk-bytes":3,"disk-chunks":4,"removed-bytes":5,"removed-chunks":6,"pending-bytes":7,"pending-chunks":8,"removed-bad":9,"still-bad":10}`,
		`{"upid":null}`, `{}`, `[]`, `{"disk-bytes":-1}`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseGCStatus(data)
		if err != nil {
			if !errors.Is(err, ErrBadGCStatus) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if st == nil {
			t.Fatal("nil status without error")
		}
	})
}

func FuzzParseChunkFileName(f *testing.F) {
	hex := "0e740a7e86667da16c2cad578ebcc6a8e13df6689a781e2f4c4ba5c95bbf6f1c"
	for _, seed := range []string{hex, hex + ".3.bad", hex + ".tmp_123", hex[:10], ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		d, bad, ok := ParseChunkFileName(name)
		if !ok {
			return
		}
		want := d.String()
		if bad {
			want += name[64:]
		}
		if want != name {
			t.Fatalf("%q decoded to %s (bad %v)", name, d, bad)
		}
	})
}

func FuzzParseBackupDirName(f *testing.F) {
	// Listings decide with ParseBackupTime which directory names are
	// snapshots; whatever it accepts must format back to the same name,
	// or a listed snapshot could not be opened again.
	for _, seed := range []string{"2025-11-22T08:26:40Z", ".2025-11-22T08:26:40Z.tmp_1", "2025-02-30T00:00:00Z", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		tm, err := ParseBackupTime(name)
		if err != nil {
			if !errors.Is(err, ErrBadName) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if got := FormatBackupTime(tm); got != name {
			t.Fatalf("%q parsed to %v, formats as %q", name, tm, got)
		}
	})
}
