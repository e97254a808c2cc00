package pbstest

import (
	"math"
	"time"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// sessionTarget is what an upgrade request names: the datastore, the
// namespace and the snapshot of the session (pbs-protocol.md 3.1, 4.1).
type sessionTarget struct {
	store     string
	ns        datastore.Namespace
	snap      datastore.Snapshot
	debug     bool
	benchmark bool
}

// decodeUpgrade checks the query parameters of GET /api2/json/backup
// (backup set) or /api2/json/reader: store, ns, backup-type, backup-id,
// backup-time, debug and, for backups, benchmark. Errors are
// *mockcore.ParamError with PBS's messages.
func decodeUpgrade(p *mockcore.Params, backup bool) (sessionTarget, error) {
	names := []string{"store", "ns", "backup-type", "backup-id", "backup-time", "debug"}
	if backup {
		names = append(names, "benchmark")
	}
	p.RejectUnknown(names...)
	p.Require("store", "backup-type", "backup-id", "backup-time")

	var t sessionTarget
	if store, ok := p.String("store"); ok {
		// DATASTORE_SCHEMA: a SAFE_ID of 3 to 32 characters.
		switch {
		case len(store) < 3:
			p.Fail("store", "value must be at least 3 characters long")
		case len(store) > 32:
			p.Fail("store", "value may only be 32 characters long")
		case !validSafeID(store):
			p.Fail("store", msgRegex)
		default:
			t.store = store
		}
	}
	if p.Has("ns") {
		if s, ok := p.String("ns"); ok {
			ns, err := datastore.ParseNamespace(s)
			if err != nil {
				p.Fail("ns", msgRegex)
			}
			t.ns = ns
		}
	}
	if s, ok := p.String("backup-type"); ok {
		typ, err := datastore.ParseBackupType(s)
		if err != nil {
			p.Fail("backup-type", "value '"+s+"' is not defined in the enumeration.")
		}
		t.snap.Type = typ
	}
	if id, ok := p.String("backup-id"); ok {
		if !validSafeID(id) {
			p.Fail("backup-id", msgRegex)
		}
		t.snap.ID = id
	}
	if epoch, ok := intParam(p, "backup-time", 1, math.MaxInt64); ok {
		t.snap.Time = time.Unix(epoch, 0).UTC()
		// Snapshot directories are named YYYY-MM-DDTHH:MM:SSZ, so years
		// beyond 9999 cannot be stored.
		if _, err := datastore.ParseBackupTime(datastore.FormatBackupTime(t.snap.Time)); err != nil {
			p.Fail("backup-time", "backup time out of range")
		}
	}
	t.debug = p.BoolOr("debug", false)
	if backup {
		t.benchmark = p.BoolOr("benchmark", false)
	}
	return t, p.Err()
}
