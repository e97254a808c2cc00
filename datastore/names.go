package datastore

import (
	"strconv"
	"strings"
	"time"
)

// nameSafeID reports whether s matches PBS's SAFE_ID pattern
// [A-Za-z0-9_][A-Za-z0-9._-]*, which backup ids, namespace components and
// archive names share.
func nameSafeID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case (c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

func nameErr(what, detail string) error {
	return formatErr(what, -1, ErrBadName, detail)
}

// BackupType is the first level of a group: what was backed up.
type BackupType string

// The backup types PBS knows.
const (
	TypeVM   BackupType = "vm"   // a virtual machine
	TypeCT   BackupType = "ct"   // a container
	TypeHost BackupType = "host" // anything else (files of a host)
)

// Valid reports whether t is vm, ct or host.
func (t BackupType) Valid() bool {
	return t == TypeVM || t == TypeCT || t == TypeHost
}

// ParseBackupType accepts exactly "vm", "ct" and "host".
func ParseBackupType(s string) (BackupType, error) {
	t := BackupType(s)
	if !t.Valid() {
		return "", nameErr("backup type", "invalid backup type "+strconv.Quote(s))
	}
	return t, nil
}

// Group is a backup group: type and id, written "<type>/<id>".
type Group struct {
	Type BackupType
	ID   string
}

// ParseGroup parses "<type>/<id>", e.g. "host/web01" or "vm/100".
func ParseGroup(s string) (Group, error) {
	ty, id, ok := strings.Cut(s, "/")
	if !ok {
		return Group{}, nameErr("group", "want <type>/<id>, got "+strconv.Quote(s))
	}
	g := Group{Type: BackupType(ty), ID: id}
	if err := g.Validate(); err != nil {
		return Group{}, err
	}
	return g, nil
}

// Validate checks the type and that the id matches
// [A-Za-z0-9_][A-Za-z0-9._-]*.
func (g Group) Validate() error {
	if !g.Type.Valid() {
		return nameErr("group", "invalid backup type "+strconv.Quote(string(g.Type)))
	}
	if !nameSafeID(g.ID) {
		return nameErr("group", "invalid backup id "+strconv.Quote(g.ID))
	}
	return nil
}

// String returns "<type>/<id>".
func (g Group) String() string { return string(g.Type) + "/" + g.ID }

// DirPath returns the group's directory relative to its namespace
// directory, "<type>/<id>".
func (g Group) DirPath() string { return g.String() }

// Snapshot is one backup of a group at a time (whole seconds, UTC).
type Snapshot struct {
	Group
	Time time.Time
}

// ParseSnapshot parses "<type>/<id>/<time>", e.g.
// "host/web01/2026-11-22T10:00:00Z".
func ParseSnapshot(s string) (Snapshot, error) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return Snapshot{}, nameErr("snapshot", "want <type>/<id>/<time>, got "+strconv.Quote(s))
	}
	g, err := ParseGroup(s[:i])
	if err != nil {
		return Snapshot{}, err
	}
	t, err := ParseBackupTime(s[i+1:])
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{Group: g, Time: t}, nil
}

// String returns "<type>/<id>/<time>".
func (s Snapshot) String() string { return s.Group.String() + "/" + s.TimeString() }

// DirPath returns the snapshot's directory relative to its namespace
// directory, "<type>/<id>/<time>".
func (s Snapshot) DirPath() string { return s.String() }

// TimeString returns the snapshot time as PBS writes it,
// "YYYY-MM-DDTHH:MM:SSZ".
func (s Snapshot) TimeString() string { return FormatBackupTime(s.Time) }

// backupTimeLayout is the only time format of snapshot names.
const backupTimeLayout = "2006-01-02T15:04:05Z"

// FormatBackupTime formats t in UTC as "YYYY-MM-DDTHH:MM:SSZ", dropping
// fractions of a second.
func FormatBackupTime(t time.Time) string {
	return t.UTC().Format(backupTimeLayout)
}

// ParseBackupTime parses "YYYY-MM-DDTHH:MM:SSZ" (exactly this form: UTC,
// four-digit year, no fraction) into a UTC time.
func ParseBackupTime(s string) (time.Time, error) {
	if len(s) != len(backupTimeLayout) || s[len(s)-1] != 'Z' {
		return time.Time{}, nameErr("backup time", "want YYYY-MM-DDTHH:MM:SSZ, got "+strconv.Quote(s))
	}
	for i := 0; i < len(s); i++ {
		if l := backupTimeLayout[i]; l >= '0' && l <= '9' && (s[i] < '0' || s[i] > '9') {
			return time.Time{}, nameErr("backup time", "want YYYY-MM-DDTHH:MM:SSZ, got "+strconv.Quote(s))
		}
	}
	t, err := time.Parse(backupTimeLayout, s)
	if err != nil {
		return time.Time{}, nameErr("backup time", err.Error())
	}
	return t.UTC(), nil
}
