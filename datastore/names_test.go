package datastore

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseNamespace(t *testing.T) {
	long255 := strings.Repeat("a", 255)
	for _, tc := range []struct {
		in      string
		ok      bool
		depth   int
		dirPath string
	}{
		{"", true, 0, ""},
		{"a", true, 1, "ns/a"},
		{"a/b", true, 2, "ns/a/ns/b"},
		{"dev/team_1/x.y-z", true, 3, "ns/dev/ns/team_1/ns/x.y-z"},
		{"1/2/3/4/5/6/7", true, 7, "ns/1/ns/2/ns/3/ns/4/ns/5/ns/6/ns/7"},
		{"1/2/3/4/5/6/7/8", false, 0, ""},
		{long255, true, 1, "ns/" + long255},
		{long255 + "a", false, 0, ""}, // upstream counts a separator before the first component
		{strings.Repeat("a", 127) + "/" + strings.Repeat("b", 128), true, 2, ""},
		{strings.Repeat("a", 127) + "/" + strings.Repeat("b", 129), false, 0, ""},
		{"/a", false, 0, ""},
		{"a/", false, 0, ""},
		{"a//b", false, 0, ""},
		{".hidden", false, 0, ""},
		{"-x", false, 0, ""},
		{"a b", false, 0, ""},
		{"ä", false, 0, ""},
		{"ns/..", false, 0, ""},
	} {
		ns, err := ParseNamespace(tc.in)
		if !tc.ok {
			assert.ErrorIs(t, err, ErrBadName, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.in, ns.String())
		assert.Equal(t, tc.depth, ns.Depth(), tc.in)
		assert.Equal(t, tc.depth == 0, ns.IsRoot())
		assert.Len(t, ns.Components(), tc.depth)
		if tc.dirPath != "" || tc.depth == 0 {
			assert.Equal(t, tc.dirPath, ns.DirPath(), tc.in)
		}
	}
}

func TestNamespaceNavigation(t *testing.T) {
	root := Namespace{}
	a, err := root.Child("a")
	require.NoError(t, err)
	ab, err := a.Child("b")
	require.NoError(t, err)
	assert.Equal(t, "a/b", ab.String())
	assert.Equal(t, []string{"a", "b"}, ab.Components())
	assert.Equal(t, a, ab.Parent())
	assert.Equal(t, root, a.Parent())
	assert.Equal(t, root, root.Parent())
	assert.Equal(t, "/datastore/store1/a/b", ab.ACLPath("store1"))
	assert.Equal(t, "/datastore/store1", root.ACLPath("store1"))
	assert.True(t, a.Contains(ab))
	assert.True(t, root.Contains(a))
	assert.True(t, ab.Contains(ab))
	assert.False(t, ab.Contains(a))
	other, _ := ParseNamespace("ab")
	assert.False(t, a.Contains(other))
	_, err = a.Child("x/y")
	assert.ErrorIs(t, err, ErrBadName)
	_, err = a.Child("")
	assert.ErrorIs(t, err, ErrBadName)
	parsed, err := ParseNamespace("a/b")
	require.NoError(t, err)
	assert.True(t, parsed == ab, "namespaces are comparable")
}

func TestParseGroupAndSnapshot(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"host/web01", true},
		{"vm/100", true},
		{"ct/_a.b-c", true},
		{"host/", false},
		{"host", false},
		{"pc/web", false},
		{"Host/web", false},
		{"host/.web", false},
		{"host/a/b", false},
		{"host/we b", false},
	} {
		g, err := ParseGroup(tc.in)
		if !tc.ok {
			assert.ErrorIs(t, err, ErrBadName, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.in, g.String())
		assert.Equal(t, tc.in, g.DirPath())
		assert.NoError(t, g.Validate())
	}

	s, err := ParseSnapshot("host/elsa/2020-06-26T13:56:05Z")
	require.NoError(t, err)
	assert.Equal(t, Group{Type: TypeHost, ID: "elsa"}, s.Group)
	assert.Equal(t, int64(1593179765), s.Time.Unix())
	assert.Equal(t, "host/elsa/2020-06-26T13:56:05Z", s.String())
	assert.Equal(t, "host/elsa/2020-06-26T13:56:05Z", s.DirPath())
	assert.Equal(t, "2020-06-26T13:56:05Z", s.TimeString())

	for _, in := range []string{
		"host/elsa", "host/elsa/", "host/elsa/2020-06-26T13:56:05", "host/elsa/2020-06-26T13:56:05+00:00",
		"host/elsa/2020-06-26 13:56:05Z", "host/elsa/2020-13-26T13:56:05Z", "host/elsa/2020-06-26T25:56:05Z",
		"host/elsa/2020-06-26T13:56:05.5Z", "host/elsa/+020-06-26T13:56:05Z", "pc/elsa/2020-06-26T13:56:05Z",
	} {
		_, err := ParseSnapshot(in)
		assert.ErrorIs(t, err, ErrBadName, in)
	}
}

func TestBackupTime(t *testing.T) {
	loc := time.FixedZone("CEST", 2*3600)
	ts := time.Date(2026, 11, 22, 12, 0, 0, 999, loc)
	assert.Equal(t, "2026-11-22T10:00:00Z", FormatBackupTime(ts))
	back, err := ParseBackupTime("2026-11-22T10:00:00Z")
	require.NoError(t, err)
	assert.Equal(t, time.UTC, back.Location())
	assert.Equal(t, ts.Unix(), back.Unix())
	_, err = ParseBackupTime("0000-01-01T00:00:00Z")
	assert.NoError(t, err)
	_, err = ParseBackupTime("2026-02-30T00:00:00Z")
	assert.ErrorIs(t, err, ErrBadName)
}

func TestBackupType(t *testing.T) {
	for _, s := range []string{"vm", "ct", "host"} {
		ty, err := ParseBackupType(s)
		require.NoError(t, err)
		assert.True(t, ty.Valid())
	}
	_, err := ParseBackupType("VM")
	assert.ErrorIs(t, err, ErrBadName)
}

func TestArchiveNames(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ArchiveType
	}{
		{"disk.img.fidx", ArchiveFixed},
		{"root.pxar.didx", ArchiveDynamic},
		{"catalog.pcat1.didx", ArchiveDynamic},
		{"index.json.blob", ArchiveBlob},
		{"qemu-server.conf.blob", ArchiveBlob},
		{"x.fidx", ArchiveFixed},
		{".fidx", 0},
		{"fidx", 0},
		{"disk.img", 0},
		{"disk.img.FIDX", 0},
		{"disk img.fidx", 0},
		{"../x.blob", 0},
		{"a/b.blob", 0},
		{"", 0},
	} {
		got, err := ParseArchiveName(tc.in)
		if tc.want == 0 {
			assert.ErrorIs(t, err, ErrBadName, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	assert.Equal(t, "disk.img.fidx", ServerArchiveName("disk.img", ArchiveFixed))
	assert.Equal(t, "disk.img.fidx", ServerArchiveName("disk.img.fidx", ArchiveFixed))
	assert.Equal(t, "root.pxar.didx", ServerArchiveName("root.pxar", ArchiveDynamic))
	assert.Equal(t, "x.didx.blob", ServerArchiveName("x.didx", ArchiveBlob))
	assert.Equal(t, ".fidx", ArchiveFixed.Extension())
	assert.Equal(t, "dynamic", ArchiveDynamic.String())
	assert.Equal(t, "ArchiveType(9)", ArchiveType(9).String())
}

func TestParseDigest(t *testing.T) {
	s := "bb9f8df61474d25e71fa00722318cd387396ca1736605e1248821cc0de3d3af8"
	d, err := ParseDigest(s)
	require.NoError(t, err)
	assert.Equal(t, s, d.String())
	assert.Equal(t, ComputeDigest(make([]byte, 4<<20)), d, "SHA-256 of 4 MiB of zeros (spec appendix A)")
	text, err := d.MarshalText()
	require.NoError(t, err)
	var d2 Digest
	require.NoError(t, d2.UnmarshalText(text))
	assert.Equal(t, d, d2)
	for _, bad := range []string{"", s[:63], s + "0", strings.ToUpper(s), s[:63] + "g", s[:62] + " 0"} {
		_, err := ParseDigest(bad)
		assert.ErrorIs(t, err, ErrBadName, bad)
		assert.ErrorIs(t, d2.UnmarshalText([]byte(bad)), ErrBadName)
	}
}
