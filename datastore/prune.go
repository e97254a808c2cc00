package datastore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"
)

// PruneOptions are the keep rules of a prune (all zero: keep everything).
// Counts are numbers of periods, as in PBS.
type PruneOptions struct {
	KeepLast    int
	KeepHourly  int
	KeepDaily   int
	KeepWeekly  int
	KeepMonthly int
	KeepYearly  int
	// Location is the time zone periods are computed in; PBS uses the
	// server's local time zone, so nil means time.Local.
	Location *time.Location
}

// KeepsSomething reports whether any keep rule is set. Without one, prune
// keeps every snapshot (PBS: "No prune selection - keeping all files.").
func (o PruneOptions) KeepsSomething() bool {
	return o.KeepLast+o.KeepHourly+o.KeepDaily+o.KeepWeekly+o.KeepMonthly+o.KeepYearly > 0
}

// PruneMark is the verdict of prune on one snapshot.
type PruneMark int

// The prune marks.
const (
	// PruneKeep: selected by a keep rule.
	PruneKeep PruneMark = iota + 1
	// PruneKeepPartial: the newest unfinished snapshot, newer than every
	// finished one (probably a running backup).
	PruneKeepPartial
	// PruneProtected: protected snapshots are always kept.
	PruneProtected
	// PruneRemove: to be removed.
	PruneRemove
)

// String returns PBS's name of the mark: keep, keep-partial, protected or
// remove.
func (m PruneMark) String() string {
	switch m {
	case PruneKeep:
		return "keep"
	case PruneKeepPartial:
		return "keep-partial"
	case PruneProtected:
		return "protected"
	case PruneRemove:
		return "remove"
	}
	return fmt.Sprintf("PruneMark(%d)", int(m))
}

// Keep reports whether the snapshot stays.
func (m PruneMark) Keep() bool { return m != PruneRemove }

// PruneCandidate is one snapshot of a group as prune sees it.
type PruneCandidate struct {
	Snapshot  Snapshot
	Finished  bool // has a manifest
	Protected bool // has the .protected marker
}

// PruneDecision is the mark ComputePrune gives one snapshot.
type PruneDecision struct {
	Snapshot Snapshot
	Mark     PruneMark
}

// ComputePrune marks the snapshots of one group exactly as PBS's prune
// does (spec 7.6), returning them oldest first. On the list sorted newest
// first:
//
//  1. the newest unfinished snapshot is kept (keep-partial) if no finished
//     one is newer; every other unfinished one is removed;
//  2. keep-last, -hourly, -daily, -weekly, -monthly and -yearly run in this
//     order, each over the snapshots not marked yet: a protected snapshot
//     is marked protected and skipped; a snapshot whose period (in
//     opts.Location) was already kept by an earlier rule is skipped; the
//     first snapshot of each new period is kept until N periods are
//     chosen, and later (older) snapshots of a chosen period are marked
//     remove, so coarser rules never pick them;
//  3. whatever is still unmarked is removed; protected snapshots end up
//     protected whatever happened before.
//
// ComputePrune applies the marks even when no rule is set (everything is
// then removed, as upstream's function does); Store.Prune keeps everything
// in that case, as PBS's API does.
func ComputePrune(list []PruneCandidate, opts PruneOptions) ([]PruneDecision, error) {
	for _, n := range []int{opts.KeepLast, opts.KeepHourly, opts.KeepDaily, opts.KeepWeekly, opts.KeepMonthly, opts.KeepYearly} {
		if n < 0 {
			return nil, errors.New("datastore: negative keep count")
		}
	}
	loc := opts.Location
	if loc == nil {
		loc = time.Local
	}
	sorted := slices.Clone(list)
	slices.SortFunc(sorted, func(a, b PruneCandidate) int { return b.Snapshot.Time.Compare(a.Snapshot.Time) })
	marks := make([]PruneMark, len(sorted))

	keepUnfinished := true
	for i, c := range sorted {
		if c.Finished {
			keepUnfinished = false
			continue
		}
		marks[i] = PruneRemove
		if keepUnfinished {
			marks[i] = PruneKeepPartial
		}
		keepUnfinished = false
	}

	rules := []struct {
		keep   int
		period func(t time.Time) string
	}{
		{opts.KeepLast, func(t time.Time) string { return FormatBackupTime(t) }},
		{opts.KeepHourly, func(t time.Time) string { return t.In(loc).Format("2006/01/02/15") }},
		{opts.KeepDaily, func(t time.Time) string { return t.In(loc).Format("2006/01/02") }},
		{opts.KeepWeekly, func(t time.Time) string {
			y, w := t.In(loc).ISOWeek()
			return fmt.Sprintf("%04d/%02d", y, w)
		}},
		{opts.KeepMonthly, func(t time.Time) string { return t.In(loc).Format("2006/01") }},
		{opts.KeepYearly, func(t time.Time) string { return t.In(loc).Format("2006") }},
	}
	for _, r := range rules {
		if r.keep > 0 {
			pruneMarkSelections(sorted, marks, r.keep, r.period)
		}
	}

	out := make([]PruneDecision, len(sorted))
	for i, c := range sorted {
		m := marks[i]
		switch {
		case c.Protected:
			m = PruneProtected
		case m == 0:
			m = PruneRemove
		}
		out[len(sorted)-1-i] = PruneDecision{Snapshot: c.Snapshot, Mark: m}
	}
	return out, nil
}

// pruneMarkSelections applies one keep rule (see ComputePrune).
func pruneMarkSelections(list []PruneCandidate, marks []PruneMark, keep int, period func(time.Time) string) {
	alreadyKept := map[string]bool{}
	for i, c := range list {
		if marks[i] == PruneKeep {
			alreadyKept[period(c.Snapshot.Time)] = true
		}
	}
	chosen := map[string]bool{}
	for i, c := range list {
		if marks[i] != 0 {
			continue
		}
		if c.Protected {
			marks[i] = PruneProtected
			continue
		}
		p := period(c.Snapshot.Time)
		if alreadyKept[p] {
			continue
		}
		if chosen[p] {
			marks[i] = PruneRemove
			continue
		}
		if len(chosen) >= keep {
			return
		}
		chosen[p] = true
		marks[i] = PruneKeep
	}
}

// PruneResult is one snapshot of a prune, as PBS's prune API returns it
// (oldest first; JSON member names as PBS's).
type PruneResult struct {
	BackupType BackupType `json:"backup-type"`
	BackupID   string     `json:"backup-id"`
	BackupTime int64      `json:"backup-time"`
	// Keep is false for snapshots that were (or, in a dry run, would be)
	// removed.
	Keep bool `json:"keep"`
	// Protected is true for protected snapshots.
	Protected bool `json:"protected"`
	// NS is the namespace, omitted for the root.
	NS string `json:"ns,omitempty"`

	// Snapshot and Mark detail the decision (not rendered).
	Snapshot Snapshot  `json:"-"`
	Mark     PruneMark `json:"-"`
	// Err is why a snapshot to remove could not be removed (e.g. it is
	// locked by a reader); prune goes on with the others, as PBS does.
	Err error `json:"-"`
}

// Prune applies opts to group g of namespace ns: it lists the group's
// snapshots, marks them with ComputePrune and, unless dryRun, removes the
// ones not kept (oldest first, each under its snapshot lock; failures are
// recorded in PruneResult.Err and do not stop the prune). Without any keep
// rule every snapshot is kept.
func (s *Store) Prune(ctx context.Context, ns Namespace, g Group, opts PruneOptions, dryRun bool) ([]PruneResult, error) {
	dir, err := s.groupDir(ns, g)
	if err != nil {
		return nil, err
	}
	names, err := s.storeSnapshotDirs(dir)
	if err != nil {
		return nil, err
	}
	list := make([]PruneCandidate, 0, len(names))
	for _, name := range names {
		t, err := ParseBackupTime(name)
		if err != nil {
			continue
		}
		snapDir := filepath.Join(dir, name)
		list = append(list, PruneCandidate{
			Snapshot:  Snapshot{Group: g, Time: t},
			Finished:  fileExists(filepath.Join(snapDir, ManifestName)),
			Protected: fileExists(filepath.Join(snapDir, ProtectedName)),
		})
	}
	decisions, err := ComputePrune(list, opts)
	if err != nil {
		return nil, err
	}
	keepAll := !opts.KeepsSomething()
	out := make([]PruneResult, 0, len(decisions))
	for _, d := range decisions {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		r := PruneResult{
			BackupType: g.Type, BackupID: g.ID, BackupTime: d.Snapshot.Time.Unix(),
			Keep: keepAll || d.Mark.Keep(), Protected: d.Mark == PruneProtected,
			NS: ns.String(), Snapshot: d.Snapshot, Mark: d.Mark,
		}
		if !r.Keep && !dryRun {
			r.Err = s.removeSnapshotDir(ctx, s.SnapshotPath(ns, d.Snapshot), false)
		}
		out = append(out, r)
	}
	return out, nil
}
