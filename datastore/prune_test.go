package datastore

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pruneList builds candidates for group host/elsa from backup times;
// a "P" prefix marks a protected snapshot, "U" an unfinished one.
func pruneList(t *testing.T, times ...string) []PruneCandidate {
	t.Helper()
	var out []PruneCandidate
	for _, s := range times {
		c := PruneCandidate{Finished: true}
		for len(s) > 0 && (s[0] == 'P' || s[0] == 'U') {
			if s[0] == 'P' {
				c.Protected = true
			} else {
				c.Finished = false
			}
			s = s[1:]
		}
		c.Snapshot = storeSnap(t, "host/elsa/"+s)
		out = append(out, c)
	}
	return out
}

// pruneSelect returns the times (oldest first) whose Keep() equals keep.
func pruneSelect(decisions []PruneDecision, keep bool) []string {
	out := []string{}
	for _, d := range decisions {
		if d.Mark.Keep() == keep {
			out = append(out, d.Snapshot.TimeString())
		}
	}
	return out
}

func TestComputePruneUpstreamCases(t *testing.T) {
	// The cases of proxmox-backup's tests/prune.rs, in UTC; "keep" lists
	// what stays, "remove" what goes, both oldest first.
	protected := []string{"P2019-11-15T09:39:15Z", "2019-11-15T10:39:15Z", "2019-11-15T10:49:15Z", "P2019-11-15T10:59:15Z"}
	hourly := []string{"2019-11-15T09:39:15Z", "2019-11-15T10:49:15Z", "2019-11-15T10:59:15Z", "2019-11-15T11:39:15Z", "2019-11-15T11:49:15Z", "2019-11-15T11:59:15Z"}
	simple2 := []string{"2018-11-15T11:59:15Z", "2019-11-15T11:59:15Z", "2019-11-21T11:59:15Z", "2019-11-22T11:59:15Z", "2019-11-29T11:59:15Z", "2019-12-01T11:59:15Z", "2019-12-02T11:59:15Z", "2019-12-03T11:59:15Z", "2019-12-04T11:59:15Z"}
	simple := []string{"2019-12-02T11:59:15Z", "2019-12-03T11:59:15Z", "2019-12-04T11:59:15Z", "2019-12-04T12:59:15Z"}

	tests := []struct {
		name   string
		list   []string
		opts   PruneOptions
		keep   []string // nil: not checked
		remove []string // nil: not checked
	}{
		{"protected keep-last", protected, PruneOptions{KeepLast: 1}, nil, []string{"2019-11-15T10:39:15Z"}},
		{"protected keep-hourly", protected, PruneOptions{KeepHourly: 1}, nil, []string{"2019-11-15T10:39:15Z"}},
		{"hourly 3", hourly, PruneOptions{KeepHourly: 3}, nil, []string{"2019-11-15T10:49:15Z", "2019-11-15T11:39:15Z", "2019-11-15T11:49:15Z"}},
		{"hourly 2", hourly, PruneOptions{KeepHourly: 2}, []string{"2019-11-15T10:59:15Z", "2019-11-15T11:59:15Z"}, nil},
		{"simple2 daily", simple2, PruneOptions{KeepDaily: 1}, []string{"2019-12-04T11:59:15Z"}, nil},
		{"simple2 last+daily", simple2, PruneOptions{KeepLast: 1, KeepDaily: 1}, []string{"2019-12-03T11:59:15Z", "2019-12-04T11:59:15Z"}, nil},
		{"simple2 daily+weekly", simple2, PruneOptions{KeepDaily: 1, KeepWeekly: 1}, []string{"2019-12-01T11:59:15Z", "2019-12-04T11:59:15Z"}, nil},
		// 2019-11-29 is the second snapshot of week 48 (after 12-01), so
		// the weekly rule marks it remove and monthly cannot pick it:
		// November is represented by 11-22.
		{"simple2 daily+weekly+monthly", simple2, PruneOptions{KeepDaily: 1, KeepWeekly: 1, KeepMonthly: 1}, []string{"2019-11-22T11:59:15Z", "2019-12-01T11:59:15Z", "2019-12-04T11:59:15Z"}, nil},
		{"simple2 monthly+yearly", simple2, PruneOptions{KeepMonthly: 1, KeepYearly: 1}, []string{"2018-11-15T11:59:15Z", "2019-12-04T11:59:15Z"}, nil},
		{"simple last 4", simple, PruneOptions{KeepLast: 4}, nil, []string{}},
		{"simple last 3", simple, PruneOptions{KeepLast: 3}, nil, []string{"2019-12-02T11:59:15Z"}},
		{"simple last 2", simple, PruneOptions{KeepLast: 2}, nil, []string{"2019-12-02T11:59:15Z", "2019-12-03T11:59:15Z"}},
		{"simple last 1", simple, PruneOptions{KeepLast: 1}, nil, []string{"2019-12-02T11:59:15Z", "2019-12-03T11:59:15Z", "2019-12-04T11:59:15Z"}},
		{"simple last 0", simple, PruneOptions{}, nil, simple},
		{"simple last 2 daily 2", simple, PruneOptions{KeepLast: 2, KeepDaily: 2}, nil, []string{}},
		{"simple daily 3", simple, PruneOptions{KeepDaily: 3}, nil, []string{"2019-12-04T11:59:15Z"}},
		{"simple daily 2", simple, PruneOptions{KeepDaily: 2}, nil, []string{"2019-12-02T11:59:15Z", "2019-12-04T11:59:15Z"}},
		{"simple weekly 5", simple, PruneOptions{KeepWeekly: 5}, nil, simple[:3]},
		{"simple daily 1 weekly 5", simple, PruneOptions{KeepDaily: 1, KeepWeekly: 5}, nil, simple[:3]},
		{"simple monthly 6", simple, PruneOptions{KeepMonthly: 6}, nil, simple[:3]},
		{"simple yearly 7", simple, PruneOptions{KeepYearly: 7}, nil, simple[:3]},
		{"simple weekly+monthly+yearly", simple, PruneOptions{KeepWeekly: 5, KeepMonthly: 6, KeepYearly: 7}, nil, simple[:3]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Location = time.UTC
			got, err := ComputePrune(pruneList(t, tt.list...), tt.opts)
			require.NoError(t, err)
			require.Len(t, got, len(tt.list))
			if tt.keep != nil {
				assert.Equal(t, tt.keep, pruneSelect(got, true))
			}
			if tt.remove != nil {
				assert.Equal(t, tt.remove, pruneSelect(got, false))
			}
		})
	}
}

func TestComputePruneMarks(t *testing.T) {
	// Hand-computed cases for the rules upstream's tests do not cover.
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		name  string
		list  []string
		opts  PruneOptions
		marks []PruneMark // oldest first
	}{
		{
			// The newest unfinished snapshot is kept only while no
			// finished one is newer; older unfinished ones go.
			"partial newest", []string{"U2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "U2024-01-03T00:00:00Z", "U2024-01-04T00:00:00Z"},
			PruneOptions{KeepLast: 5},
			[]PruneMark{PruneRemove, PruneKeep, PruneRemove, PruneKeepPartial},
		},
		{
			"partial older than a finished one", []string{"U2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"},
			PruneOptions{KeepLast: 5},
			[]PruneMark{PruneRemove, PruneKeep},
		},
		{
			// Protected snapshots do not count towards keep-last.
			"protected do not count", []string{"2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "P2024-01-03T00:00:00Z", "P2024-01-04T00:00:00Z"},
			PruneOptions{KeepLast: 1},
			[]PruneMark{PruneRemove, PruneKeep, PruneProtected, PruneProtected},
		},
		{
			// An unfinished protected snapshot is still protected.
			"protected partial", []string{"2024-01-01T00:00:00Z", "PU2024-01-02T00:00:00Z", "U2024-01-03T00:00:00Z"},
			PruneOptions{KeepLast: 1},
			[]PruneMark{PruneKeep, PruneProtected, PruneKeepPartial},
		},
		{
			// 2020-12-31 and 2021-01-03 share ISO week 2020/53; 2021-01-04
			// starts 2021/01.
			"iso week across new year", []string{"2020-12-31T12:00:00Z", "2021-01-03T12:00:00Z", "2021-01-04T12:00:00Z"},
			PruneOptions{KeepWeekly: 5, Location: time.UTC},
			[]PruneMark{PruneRemove, PruneKeep, PruneKeep},
		},
		{
			"daily in UTC", []string{"2024-01-01T23:30:00Z", "2024-01-02T00:30:00Z"},
			PruneOptions{KeepDaily: 2, Location: time.UTC},
			[]PruneMark{PruneKeep, PruneKeep},
		},
		{
			// One hour east of UTC both fall on January 2nd.
			"daily in UTC+1", []string{"2024-01-01T23:30:00Z", "2024-01-02T00:30:00Z"},
			PruneOptions{KeepDaily: 2, Location: berlin},
			[]PruneMark{PruneRemove, PruneKeep},
		},
		{
			// Yearly keeps the newest of each year.
			"yearly", []string{"2021-03-01T00:00:00Z", "2021-06-01T00:00:00Z", "2022-01-01T00:00:00Z", "2023-05-05T00:00:00Z"},
			PruneOptions{KeepYearly: 2, Location: time.UTC},
			[]PruneMark{PruneRemove, PruneRemove, PruneKeep, PruneKeep},
		},
		{
			"no rule marks everything remove", []string{"2024-01-01T00:00:00Z", "P2024-01-02T00:00:00Z", "U2024-01-03T00:00:00Z"},
			PruneOptions{},
			[]PruneMark{PruneRemove, PruneProtected, PruneKeepPartial},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ComputePrune(pruneList(t, tt.list...), tt.opts)
			require.NoError(t, err)
			var marks []PruneMark
			for _, d := range got {
				marks = append(marks, d.Mark)
			}
			assert.Equal(t, tt.marks, marks)
		})
	}
	_, err := ComputePrune(nil, PruneOptions{KeepLast: -1})
	assert.Error(t, err)
	got, err := ComputePrune(nil, PruneOptions{KeepLast: 1})
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Equal(t, "keep-partial", PruneKeepPartial.String())
	assert.Equal(t, "remove", PruneRemove.String())
	assert.Equal(t, "protected", PruneProtected.String())
	assert.Equal(t, "keep", PruneKeep.String())
}

func TestComputePruneDefaultsToLocalTime(t *testing.T) {
	list := pruneList(t, "2024-01-01T23:30:00Z", "2024-01-02T00:30:00Z")
	local, err := ComputePrune(list, PruneOptions{KeepDaily: 2})
	require.NoError(t, err)
	explicit, err := ComputePrune(list, PruneOptions{KeepDaily: 2, Location: time.Local})
	require.NoError(t, err)
	assert.Equal(t, explicit, local)
}

func TestStorePrune(t *testing.T) {
	ctx := context.Background()
	s := storeNewTest(t)
	ns, err := s.CreateNamespace(Namespace{}, "prod")
	require.NoError(t, err)
	times := []string{"2024-01-01T10:00:00Z", "2024-01-02T10:00:00Z", "2024-01-03T10:00:00Z", "2024-01-04T10:00:00Z"}
	var snaps []Snapshot
	for _, ts := range times {
		snap := storeSnap(t, "vm/100/"+ts)
		storeWrite(t, s, ns, snap, "root@pam", storeTestArchive{name: "a.blob", data: []byte(ts)})
		snaps = append(snaps, snap)
	}
	require.NoError(t, s.SetProtected(ns, snaps[0], true))
	g := snaps[0].Group

	// Without rules everything stays.
	res, err := s.Prune(ctx, ns, g, PruneOptions{}, false)
	require.NoError(t, err)
	for _, r := range res {
		assert.True(t, r.Keep)
	}

	opts := PruneOptions{KeepLast: 1, Location: time.UTC}
	res, err = s.Prune(ctx, ns, g, opts, true)
	require.NoError(t, err)
	raw, err := json.Marshal(res)
	require.NoError(t, err)
	assert.JSONEq(t, `[
		{"backup-type":"vm","backup-id":"100","backup-time":1704103200,"keep":true,"protected":true,"ns":"prod"},
		{"backup-type":"vm","backup-id":"100","backup-time":1704189600,"keep":false,"protected":false,"ns":"prod"},
		{"backup-type":"vm","backup-id":"100","backup-time":1704276000,"keep":false,"protected":false,"ns":"prod"},
		{"backup-type":"vm","backup-id":"100","backup-time":1704362400,"keep":true,"protected":false,"ns":"prod"}]`, string(raw))
	items, err := s.ListSnapshots(ctx, ns, "", "")
	require.NoError(t, err)
	assert.Len(t, items, 4, "a dry run removes nothing")

	// A reader holds the third snapshot: its removal fails, the rest goes on.
	lock, err := s.LockSnapshot(ns, snaps[2], false)
	require.NoError(t, err)
	res, err = s.Prune(ctx, ns, g, opts, false)
	require.NoError(t, lock.Unlock())
	require.NoError(t, err)
	assert.NoError(t, res[1].Err)
	assert.ErrorIs(t, res[2].Err, ErrLocked)
	items, err = s.ListSnapshots(ctx, ns, "", "")
	require.NoError(t, err)
	var left []Snapshot
	for _, it := range items {
		left = append(left, it.Snapshot)
	}
	assert.Equal(t, []Snapshot{snaps[0], snaps[2], snaps[3]}, left)

	_, err = s.Prune(ctx, ns, Group{Type: TypeVM, ID: "404"}, opts, true)
	assert.ErrorIs(t, err, ErrGroupNotFound)
}
