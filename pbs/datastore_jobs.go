package pbs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/httpapi"
)

// VerifyOptions selects what StartVerify checks: one snapshot (Group and
// Time set), one group (Group set), or every group of Namespace and the
// namespaces below it (Group zero).
type VerifyOptions struct {
	Namespace datastore.Namespace
	Group     datastore.Group
	// Time picks the snapshot of Group at that time.
	Time time.Time
	// IgnoreVerified skips snapshots verified before (unless outdated);
	// nil means the server's default, true.
	IgnoreVerified *bool
	// OutdatedAfter, when positive, treats a verification older than this
	// many days as outdated.
	OutdatedAfter int
	// MaxDepth limits how many namespace levels below Namespace a
	// datastore-wide verification descends; nil means all.
	MaxDepth *int
}

// StartVerify starts a verify task and returns its id; follow it with
// WaitTask. The task fails when any snapshot fails verification, and records
// each snapshot's outcome in its manifest (see SnapshotInfo.Verification).
//
// PBS: POST /admin/datastore/{store}/verify (needs Datastore.Verify, or
// Datastore.Backup for owned groups, on /datastore/{store}[/{ns}])
func (s *DatastoreService) StartVerify(ctx context.Context, store string, opts VerifyOptions) (UPID, error) {
	var v httpapi.Values
	switch {
	case opts.Group != (datastore.Group{}):
		g, err := dsGroupValues(opts.Namespace, opts.Group)
		if err != nil {
			return UPID{}, err
		}
		v = g
		if !opts.Time.IsZero() {
			v.SetInt("backup-time", opts.Time.Unix())
		}
	case !opts.Time.IsZero():
		return UPID{}, fmt.Errorf("pbs: StartVerify: a snapshot time needs a group")
	default:
		dsSetNS(&v, "ns", opts.Namespace)
	}
	if opts.IgnoreVerified != nil {
		v.SetBool("ignore-verified", *opts.IgnoreVerified)
	}
	if opts.OutdatedAfter > 0 {
		v.SetInt("outdated-after", int64(opts.OutdatedAfter))
	}
	if opts.MaxDepth != nil {
		v.SetInt("max-depth", int64(*opts.MaxDepth))
	}
	return s.startTask(ctx, dsStorePath(store, "verify"), v)
}

// StartGC starts garbage collection on store and returns the task id. Only
// one collection runs per datastore at a time.
//
// PBS: POST /admin/datastore/{store}/gc (needs Datastore.Modify on
// /datastore/{store})
func (s *DatastoreService) StartGC(ctx context.Context, store string) (UPID, error) {
	return s.startTask(ctx, dsStorePath(store, "gc"), httpapi.Values{})
}

// GCJobStatus is GET /admin/datastore/{store}/gc: the last garbage
// collection's statistics and its schedule.
type GCJobStatus struct {
	Store string
	// Status holds the statistics of the last run (UPID nil if none ran
	// since the server started and none is recorded).
	Status datastore.GCStatus
	// Schedule is the calendar event of scheduled runs, "" for none.
	Schedule string
	// NextRun is the next scheduled run, zero if none.
	NextRun time.Time
	// LastRunEndtime is when the last run ended, zero if unknown.
	LastRunEndtime time.Time
	// LastRunState is "ok", an error text, or "" if unknown.
	LastRunState string
	// Duration is how long the last run took, 0 if unknown.
	Duration time.Duration
}

// UnmarshalJSON decodes PBS's GarbageCollectionJobStatus, whose statistics
// are members of the object itself.
func (g *GCJobStatus) UnmarshalJSON(b []byte) error {
	var w struct {
		Store          string `json:"store"`
		Schedule       string `json:"schedule"`
		NextRun        *int64 `json:"next-run"`
		LastRunEndtime *int64 `json:"last-run-endtime"`
		LastRunState   string `json:"last-run-state"`
		Duration       *int64 `json:"duration"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	var st datastore.GCStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	*g = GCJobStatus{Store: w.Store, Status: st, Schedule: w.Schedule, LastRunState: w.LastRunState}
	if w.NextRun != nil {
		g.NextRun = dsEpoch(*w.NextRun)
	}
	if w.LastRunEndtime != nil {
		g.LastRunEndtime = dsEpoch(*w.LastRunEndtime)
	}
	if w.Duration != nil {
		if *w.Duration < 0 || *w.Duration > math.MaxInt64/int64(time.Second) {
			return fmt.Errorf("pbs: gc duration %d out of range", *w.Duration)
		}
		g.Duration = time.Duration(*w.Duration) * time.Second
	}
	return nil
}

// GCStatus returns the status of the last garbage collection of store.
//
// PBS: GET /admin/datastore/{store}/gc (needs Datastore.Audit on
// /datastore/{store})
func (s *DatastoreService) GCStatus(ctx context.Context, store string) (*GCJobStatus, error) {
	var out GCJobStatus
	if err := s.c.api.Get(ctx, dsStorePath(store, "gc"), nil, &out); err != nil {
		return nil, wrapError(err)
	}
	return &out, nil
}

// PruneOptions are the keep rules of a prune. Every count is a number of
// periods (0: rule not used); without any rule prune keeps everything.
// Periods are computed in the server's local time zone.
type PruneOptions struct {
	KeepLast    int
	KeepHourly  int
	KeepDaily   int
	KeepWeekly  int
	KeepMonthly int
	KeepYearly  int
	// DryRun only reports what would be removed.
	DryRun bool
}

// PruneItem is one snapshot of a prune result.
type PruneItem struct {
	Snapshot datastore.Snapshot
	// Namespace is where the snapshot is (root when the server omits it).
	Namespace datastore.Namespace
	// Keep is false for snapshots that were (or, in a dry run, would be)
	// removed.
	Keep bool
	// Protected marks protected snapshots, which are always kept.
	Protected bool
}

// UnmarshalJSON decodes {"backup-type","backup-id","backup-time","keep",
// "protected","ns"?}.
func (p *PruneItem) UnmarshalJSON(b []byte) error {
	var w struct {
		Type      string         `json:"backup-type"`
		ID        string         `json:"backup-id"`
		Time      *int64         `json:"backup-time"`
		Keep      bool           `json:"keep"`
		Protected bool           `json:"protected"`
		NS        *wireNamespace `json:"ns"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	snap, err := dsDecodeSnapshot("prune item", w.Type, w.ID, w.Time)
	if err != nil {
		return err
	}
	*p = PruneItem{Snapshot: snap, Keep: w.Keep, Protected: w.Protected}
	if w.NS != nil {
		p.Namespace = w.NS.ns
	}
	return nil
}

// Prune applies opts to group g and returns every snapshot of the group
// with its verdict, oldest first; unless opts.DryRun the snapshots not kept
// are removed before it returns. Protected snapshots are always kept.
//
// PBS: POST /admin/datastore/{store}/prune (needs Datastore.Modify, or
// Datastore.Prune for owned groups, on /datastore/{store}[/{ns}])
func (s *DatastoreService) Prune(ctx context.Context, store string, ns datastore.Namespace, g datastore.Group, opts PruneOptions) ([]PruneItem, error) {
	v, err := dsPruneValues(ns, g, opts)
	if err != nil {
		return nil, err
	}
	return dsCall[[]PruneItem](ctx, s.c, http.MethodPost, dsStorePath(store, "prune"), v)
}

// StartPrune is Prune run as a server task ("use-task"): it returns the
// task id at once, and the task log lists every snapshot with its mark.
//
// PBS: POST /admin/datastore/{store}/prune with use-task (needs
// Datastore.Modify, or Datastore.Prune for owned groups, on
// /datastore/{store}[/{ns}])
func (s *DatastoreService) StartPrune(ctx context.Context, store string, ns datastore.Namespace, g datastore.Group, opts PruneOptions) (UPID, error) {
	v, err := dsPruneValues(ns, g, opts)
	if err != nil {
		return UPID{}, err
	}
	v.SetBool("use-task", true)
	return s.startTask(ctx, dsStorePath(store, "prune"), v)
}

// PruneDatastoreOptions selects the groups StartPruneDatastore prunes:
// every group of Namespace and the namespaces below it, down to MaxDepth
// levels (nil: all).
type PruneDatastoreOptions struct {
	PruneOptions
	Namespace datastore.Namespace
	MaxDepth  *int
}

// StartPruneDatastore prunes every group of a namespace tree with the same
// keep rules, as a task; the task log lists each group and each snapshot's
// mark ("would remove ..." in a dry run). Callers without Datastore.Modify
// prune only the groups they own, where they hold Datastore.Prune.
//
// PBS: POST /admin/datastore/{store}/prune-datastore (needs Datastore.Modify
// or Datastore.Prune on /datastore/{store}[/{ns}])
func (s *DatastoreService) StartPruneDatastore(ctx context.Context, store string, opts PruneDatastoreOptions) (UPID, error) {
	var v httpapi.Values
	dsSetNS(&v, "ns", opts.Namespace)
	if opts.MaxDepth != nil {
		v.SetInt("max-depth", int64(*opts.MaxDepth))
	}
	if err := dsKeepValues(&v, opts.PruneOptions); err != nil {
		return UPID{}, err
	}
	return s.startTask(ctx, dsStorePath(store, "prune-datastore"), v)
}

func dsPruneValues(ns datastore.Namespace, g datastore.Group, opts PruneOptions) (httpapi.Values, error) {
	v, err := dsGroupValues(ns, g)
	if err != nil {
		return v, err
	}
	return v, dsKeepValues(&v, opts)
}

// dsKeepValues adds the keep rules and dry-run of opts.
func dsKeepValues(v *httpapi.Values, opts PruneOptions) error {
	for _, k := range []struct {
		name string
		n    int
	}{
		{"keep-last", opts.KeepLast}, {"keep-hourly", opts.KeepHourly}, {"keep-daily", opts.KeepDaily},
		{"keep-weekly", opts.KeepWeekly}, {"keep-monthly", opts.KeepMonthly}, {"keep-yearly", opts.KeepYearly},
	} {
		if k.n < 0 {
			return fmt.Errorf("pbs: prune: negative %s", k.name)
		}
		if k.n > 0 {
			v.SetInt(k.name, int64(k.n))
		}
	}
	if opts.DryRun {
		v.SetBool("dry-run", true)
	}
	return nil
}

// startTask POSTs a call that answers with a task id.
func (s *DatastoreService) startTask(ctx context.Context, path string, v httpapi.Values) (UPID, error) {
	var out UPID
	if err := s.c.api.Post(ctx, path, v, &out); err != nil {
		return UPID{}, wrapError(err)
	}
	if out.IsZero() {
		return UPID{}, &httpapi.DecodeError{Product: s.c.api.Product(), Method: "POST", Path: path, Status: 200,
			Reason: "no task id in the answer", Err: ErrInvalidUPID}
	}
	return out, nil
}
