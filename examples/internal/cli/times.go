package cli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/proxkit/proxkit/datastore"
)

// ParseTime reads a time flag (--backup-time, --expire): Unix epoch seconds (as
// proxmox-backup-client takes it) or the snapshot form
// "2026-11-22T10:00:00Z" that the programs print.
func ParseTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 1 {
			return time.Time{}, fmt.Errorf("time %d: must be at least 1", n)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := datastore.ParseBackupTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: want Unix seconds or YYYY-MM-DDTHH:MM:SSZ", s)
	}
	if t.Unix() < 1 {
		// PBS's backup-time has minimum 1, in either spelling.
		return time.Time{}, fmt.Errorf("time %q: must be after 1970-01-01T00:00:00Z", s)
	}
	return t, nil
}
