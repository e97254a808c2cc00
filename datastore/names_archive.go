package datastore

import (
	"strconv"
	"strings"
)

// ArchiveType is what kind of file an archive of a snapshot is, told by
// its server-side extension.
type ArchiveType int

// Archive types.
const (
	ArchiveFixed   ArchiveType = iota + 1 // ".fidx": fixed index (images)
	ArchiveDynamic                        // ".didx": dynamic index (pxar, catalog)
	ArchiveBlob                           // ".blob": a DataBlob (config, log, manifest)
)

// Extension returns ".fidx", ".didx" or ".blob" ("" for an invalid type).
func (t ArchiveType) Extension() string {
	switch t {
	case ArchiveFixed:
		return ".fidx"
	case ArchiveDynamic:
		return ".didx"
	case ArchiveBlob:
		return ".blob"
	}
	return ""
}

// String returns "fixed", "dynamic" or "blob".
func (t ArchiveType) String() string {
	switch t {
	case ArchiveFixed:
		return "fixed"
	case ArchiveDynamic:
		return "dynamic"
	case ArchiveBlob:
		return "blob"
	}
	return "ArchiveType(" + strconv.Itoa(int(t)) + ")"
}

// ParseArchiveName checks a server-side archive name (a SAFE_ID ending in
// .fidx, .didx or .blob, with something before the extension) and returns
// its type.
func ParseArchiveName(name string) (ArchiveType, error) {
	if !nameSafeID(name) {
		return 0, nameErr("archive name", "invalid name "+strconv.Quote(name))
	}
	for _, t := range []ArchiveType{ArchiveFixed, ArchiveDynamic, ArchiveBlob} {
		if base, ok := strings.CutSuffix(name, t.Extension()); ok && base != "" {
			return t, nil
		}
	}
	return 0, nameErr("archive name", strconv.Quote(name)+" does not end in .fidx, .didx or .blob")
}

// ServerArchiveName returns the server-side name of an archive of type t:
// name with t's extension appended, unless name already ends in it
// ("disk.img" -> "disk.img.fidx", "disk.img.fidx" stays).
func ServerArchiveName(name string, t ArchiveType) string {
	ext := t.Extension()
	if strings.HasSuffix(name, ext) {
		return name
	}
	return name + ext
}
