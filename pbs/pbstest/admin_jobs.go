package pbstest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/mockcore"
	"github.com/proxkit/proxkit/pbs"
)

// adminVerifyRun is one verify task's settings.
type adminVerifyRun struct {
	task           *adminTask
	st             *datastore.Store
	ignoreVerified bool
	outdatedAfter  int64 // days; < 0: not given
	cache          *datastore.VerifyCache
}

// handleVerify serves POST /admin/datastore/{store}/verify: one snapshot,
// one group, or every group of ns and below, as a task that the mock runs
// to its end before answering with the UPID.
func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, "ns", "backup-type", "backup-id", "backup-time",
		"ignore-verified", "outdated-after", "max-depth")
	if !ok {
		return
	}
	ns := adminNSParam(p, "ns")
	snap := datastore.Snapshot{Group: datastore.Group{Type: adminTypeParam(p), ID: adminIDParam(p)}, Time: adminTimeParam(p)}
	run := adminVerifyRun{ignoreVerified: p.BoolOr("ignore-verified", true), outdatedAfter: -1, cache: datastore.NewVerifyCache()}
	if p.Has("outdated-after") {
		run.outdatedAfter, _ = intParam(p, "outdated-after", 0, math.MaxInt64)
	}
	depth := adminDepthParam(p, datastore.MaxNamespaceDepth)
	if !s.paramsOK(w, p) {
		return
	}
	store := r.PathValue("store")
	st, limited, ok := s.adminNSStore(w, id, store, ns, adminPrivs{adminPrivVerify}, adminPrivs{adminPrivBackup})
	if !ok {
		return
	}
	run.st = st
	var workerType, workerID string
	hasType, hasID, hasTime := p.Has("backup-type"), p.Has("backup-id"), p.Has("backup-time")
	switch {
	case hasType && hasID && hasTime:
		workerType = "verify_snapshot"
		workerID = fmt.Sprintf("%s:%s/%s/%s/%08X", store, ns.DirPath(), snap.Type, snap.ID, snap.Time.Unix())
	case hasType && hasID && !hasTime:
		workerType = "verify_group"
		workerID = fmt.Sprintf("%s:%s/%s/%s", store, ns.DirPath(), snap.Type, snap.ID)
	case !hasType && !hasID && !hasTime:
		workerType, workerID = "verify", store
		if !ns.IsRoot() {
			workerID = store + ":" + ns.DirPath()
		}
	default:
		mockcore.WritePBSError(w, http.StatusBadRequest, "parameters do not specify a backup group or snapshot")
		return
	}
	if limited && workerType != "verify" && !s.adminCheckOwner(w, st, id, ns, snap.Group) {
		return
	}

	run.task = s.adminStartTask(workerType, workerID, id)
	var failed []string
	var err error
	switch workerType {
	case "verify_snapshot":
		if !s.adminVerifySnapshot(r.Context(), run, ns, snap) {
			failed = append(failed, adminQualified(ns, snap.String()))
		}
	case "verify_group":
		failed = s.adminVerifyGroup(r.Context(), run, ns, snap.Group)
	default:
		var owner *auth.Authid
		if limited {
			owner = &id
		}
		failed, err = s.adminVerifyAll(r.Context(), run, ns, int(depth), owner)
	}
	if err == nil && len(failed) > 0 {
		s.adminTaskLog(run.task, "Failed to verify the following snapshots/groups:")
		for _, f := range failed {
			s.adminTaskLog(run.task, "\t%s", f)
		}
		err = errors.New("verification failed - please check the log for details")
	}
	s.adminFinishTask(run.task, err)
	s.reply(w, run.task.text, nil)
}

// adminVerifySnapshot verifies one snapshot as PBS's verify_backup_dir
// does and reports whether it is fine (a skipped snapshot is fine).
func (s *Server) adminVerifySnapshot(ctx context.Context, run adminVerifyRun, ns datastore.Namespace, snap datastore.Snapshot) bool {
	store := run.st.Name()
	if !run.st.NamespaceExists(ns) || !adminDirExists(run.st.SnapshotPath(ns, snap)) {
		s.adminTaskLog(run.task, "SKIPPED: verify %s:%s - snapshot does not exist (anymore).", store, snap)
		return true
	}
	m, _, err := run.st.ReadManifest(ns, snap)
	if err != nil {
		s.adminTaskLog(run.task, "verify %s:%s - manifest load error: %s", store, snap, adminStoreErr(err, adminTarget{ns: ns, snap: snap}).Message)
		return false
	}
	if !s.adminVerifyWanted(run, m) {
		s.adminTaskLog(run.task, "SKIPPED: verify %s:%s (recently verified)", store, snap)
		return true
	}
	s.adminTaskLog(run.task, "verify %s:%s", store, snap)
	for _, f := range m.Files {
		s.adminTaskLog(run.task, "  check %s", f.Filename)
	}
	res, err := run.st.Verify(ctx, ns, snap, datastore.VerifyOptions{UPID: run.task.text, RenameCorrupt: true, Cache: run.cache})
	var lockErr *datastore.LockError
	switch {
	case errors.As(err, &lockErr):
		s.adminTaskLog(run.task, "SKIPPED: verify %s:%s - could not acquire snapshot lock: %s", store, snap, lockErr)
		return true
	case err != nil:
		s.adminTaskLog(run.task, "verify %s:%s - %s", store, snap, adminStoreErr(err, adminTarget{ns: ns, snap: snap}).Message)
		return false
	}
	for _, e := range res.Errors {
		var ve *datastore.VerifyError
		name := "?"
		if errors.As(e, &ve) {
			name = ve.Archive
		}
		s.adminTaskLog(run.task, "verify %s:%s/%s failed: %s", store, snap, name, e)
	}
	return res.OK()
}

// adminVerifyWanted is PBS's verify_filter: with ignore-verified a
// snapshot verified before is skipped, unless outdated-after is given and
// the last verification is more than that many days old.
func (s *Server) adminVerifyWanted(run adminVerifyRun, m *datastore.Manifest) bool {
	if !run.ignoreVerified || m.Unprotected.VerifyState == nil {
		return true
	}
	last, err := pbs.ParseUPID(m.Unprotected.VerifyState.UPID)
	if err != nil {
		return true // PBS cannot read the state either: no last verification
	}
	if run.outdatedAfter < 0 {
		return false
	}
	days := (s.now().Unix() - last.StartTime.Unix()) / 86400
	return days > run.outdatedAfter
}

// adminVerifyGroup verifies the snapshots of g newest first and returns
// the failed ones.
func (s *Server) adminVerifyGroup(ctx context.Context, run adminVerifyRun, ns datastore.Namespace, g datastore.Group) []string {
	list, err := run.st.ListSnapshots(ctx, ns, g.Type, g.ID)
	if err != nil {
		s.adminTaskLog(run.task, "verify %s, group %s - unable to list backups: %s", adminStoreAndNS(run.st.Name(), ns), g,
			adminStoreErr(err, adminTarget{ns: ns, group: g}).Message)
		return nil
	}
	s.adminTaskLog(run.task, "verify group %s:%s (%d snapshots)", run.st.Name(), g, len(list))
	var failed []string
	for i := len(list) - 1; i >= 0; i-- {
		if !s.adminVerifySnapshot(ctx, run, ns, list[i].Snapshot) {
			failed = append(failed, adminQualified(ns, list[i].Snapshot.String()))
		}
	}
	return failed
}

// adminVerifyAll verifies every group of ns and the namespaces below it
// (maxDepth levels), as verify_all_backups does: for a caller without
// Datastore.Verify (owner non-nil) only namespaces where it holds
// Datastore.Verify, or Datastore.Backup for the groups it owns.
func (s *Server) adminVerifyAll(ctx context.Context, run adminVerifyRun, ns datastore.Namespace, maxDepth int, owner *auth.Authid) ([]string, error) {
	store := run.st.Name()
	s.adminTaskLog(run.task, "verify datastore %s", store)
	if owner != nil {
		s.adminTaskLog(run.task, "limiting to backups owned by %s", owner)
	}
	spaces, err := run.st.ListNamespaces(ctx, ns, maxDepth)
	if err != nil {
		s.adminTaskLog(run.task, "unable to list backups: %s", adminStoreErr(err, adminTarget{ns: ns}).Message)
		return nil, nil
	}
	type nsGroup struct {
		ns datastore.Namespace
		g  datastore.Group
	}
	var groups []nsGroup
	for _, it := range spaces {
		override := true
		if owner != nil {
			path := it.NS.ACLPath(store)
			if !s.hasAnyPriv(*owner, path, adminNSPrivsOK...) {
				continue
			}
			override = s.hasAnyPriv(*owner, path, adminPrivVerify)
			if !override && !s.hasAnyPriv(*owner, path, adminPrivBackup) {
				continue
			}
		}
		list, err := run.st.ListGroups(ctx, it.NS)
		if err != nil {
			continue
		}
		for _, g := range list {
			if !override && !adminOwns(g.Owner, *owner) {
				continue
			}
			if g.BackupType == datastore.TypeHost && g.BackupID == "benchmark" {
				continue
			}
			groups = append(groups, nsGroup{ns: it.NS, g: g.Group()})
		}
	}
	slices.SortStableFunc(groups, func(a, b nsGroup) int { return datastore.CompareGroups(a.g, b.g) })
	s.adminTaskLog(run.task, "found %d groups", len(groups))
	var failed []string
	for _, ng := range groups {
		if err := ctx.Err(); err != nil {
			return failed, err
		}
		failed = append(failed, s.adminVerifyGroup(ctx, run, ng.ns, ng.g)...)
	}
	return failed, nil
}

// adminStoreAndNS is PBS's print_store_and_ns.
func adminStoreAndNS(store string, ns datastore.Namespace) string {
	if ns.IsRoot() {
		return fmt.Sprintf("datastore '%s', root namespace", store)
	}
	return fmt.Sprintf("datastore '%s', namespace '%s'", store, ns)
}

// handleGCStart serves POST /admin/datastore/{store}/gc: garbage
// collection as a task, run to its end before the UPID is returned; one
// per datastore at a time.
func (s *Server) handleGCStart(w http.ResponseWriter, r *http.Request) {
	id, st, ok := s.adminPrivStore(w, r, adminPrivModify)
	if !ok {
		return
	}
	store := r.PathValue("store")
	a := &s.admin
	a.mu.Lock()
	if a.gcRunning[store] {
		a.mu.Unlock()
		mockcore.WritePBSError(w, http.StatusBadRequest, "garbage collection already running")
		return
	}
	if a.gcRunning == nil {
		a.gcRunning = map[string]bool{}
	}
	a.gcRunning[store] = true
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.gcRunning, store)
		a.mu.Unlock()
	}()

	task := s.adminStartTask("garbage_collection", store, id)
	s.adminTaskLog(task, "starting garbage collection on store %s", store)
	rep, err := st.GarbageCollect(r.Context(), datastore.GCOptions{
		UPID: task.text,
		Log:  func(msg string) { s.adminTaskLog(task, "%s", msg) },
	})
	if err == nil {
		s.adminTaskLog(task, "Removed garbage: %d B", rep.RemovedBytes)
		s.adminTaskLog(task, "Removed chunks: %d", rep.RemovedChunks)
		s.adminTaskLog(task, "Pending removals: %d B (in %d chunks)", rep.PendingBytes, rep.PendingChunks)
		s.adminTaskLog(task, "Original data usage: %d B", rep.IndexDataBytes)
		s.adminTaskLog(task, "On-Disk usage: %d B", rep.DiskBytes)
		s.adminTaskLog(task, "On-Disk chunks: %d", rep.DiskChunks)
	}
	exit := s.adminFinishTask(task, err)
	end := s.now()
	a.mu.Lock()
	if a.gcLast == nil {
		a.gcLast = map[string]adminJobRun{}
	}
	a.gcLast[store] = adminJobRun{upid: task.text, end: end.Unix(), state: exit,
		took: end.Unix() - task.upid.StartTime.Unix()}
	a.mu.Unlock()
	s.reply(w, task.text, nil)
}

// adminGCJobStatus is GET .../gc: the store, the last GC statistics as
// members of the object itself, and the job state of the last run.
type adminGCJobStatus struct {
	Store string `json:"store"`
	datastore.GCStatus
	LastRunEndtime *int64 `json:"last-run-endtime,omitempty"`
	LastRunState   string `json:"last-run-state,omitempty"`
	Duration       *int64 `json:"duration,omitempty"`
}

// handleGCStatus serves GET /admin/datastore/{store}/gc.
func (s *Server) handleGCStatus(w http.ResponseWriter, r *http.Request) {
	_, st, ok := s.adminPrivStore(w, r, adminPrivAudit)
	if !ok {
		return
	}
	store := r.PathValue("store")
	out := adminGCJobStatus{Store: store, GCStatus: *adminLastGC(st)}
	s.admin.mu.Lock()
	last, ran := s.admin.gcLast[store]
	s.admin.mu.Unlock()
	if ran {
		out.LastRunEndtime, out.LastRunState, out.Duration = &last.end, last.state, &last.took
	}
	s.reply(w, out, nil)
}

// adminKeepNames are the keep options of prune in PBS's order.
var adminKeepNames = []string{"last", "hourly", "daily", "weekly", "monthly", "yearly"}

// handlePrune serves POST /admin/datastore/{store}/prune: the verdict on
// every snapshot of one group, oldest first, after removing the ones not
// kept unless dry-run is set; with use-task the same runs as a task and
// the answer is its UPID.
func (s *Server) handlePrune(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, adminKeepAllowed("ns", "backup-type", "backup-id", "dry-run", "use-task")...)
	if !ok {
		return
	}
	ns := adminNSParam(p, "ns")
	g := adminGroupParams(p)
	opts, keep := adminKeepParams(p)
	dryRun := p.BoolOr("dry-run", false)
	useTask := p.BoolOr("use-task", false)
	if !s.paramsOK(w, p) {
		return
	}
	store := r.PathValue("store")
	st, ok := s.adminStoreAccess(w, id, store, ns, g, adminPrivs{adminPrivModify}, adminPrivs{adminPrivPrune})
	if !ok {
		return
	}
	target := adminTarget{ns: ns, group: g}
	// The group's snapshots are listed before any task starts: a missing
	// group is an error of the call itself.
	plan, err := st.Prune(r.Context(), ns, g, opts, true)
	if err != nil {
		s.fail(w, adminStoreErr(err, target))
		return
	}
	if dryRun {
		s.reply(w, plan, nil)
		return
	}

	task := s.adminStartTask("prune", fmt.Sprintf("%s:%s:%s", store, ns, g), id)
	if !opts.KeepsSomething() {
		s.adminTaskLog(task, "No prune selection - keeping all files.")
	} else {
		s.adminTaskLog(task, "retention options: %s", adminRetentionOptions(ns, -1, keep))
		s.adminTaskLog(task, "Starting prune on %s group \"%s\"", adminStoreAndNS(store, ns), g)
	}
	res, err := st.Prune(r.Context(), ns, g, opts, false)
	for i := range res {
		s.adminTaskLog(task, "%s/%s/%s %s", res[i].BackupType, res[i].BackupID,
			datastore.FormatBackupTime(res[i].Snapshot.Time), res[i].Mark)
		if res[i].Err != nil {
			s.adminTaskWarn(task, "failed to remove dir %q: %s", adminQualified(ns, res[i].Snapshot.String()),
				adminStoreErr(res[i].Err, adminTarget{ns: ns, snap: res[i].Snapshot}).Message)
		}
		// PBS names the namespace only in dry-run results.
		res[i].NS = ""
	}
	s.adminFinishTask(task, err)
	if useTask {
		s.reply(w, task.text, nil)
		return
	}
	if err != nil {
		s.fail(w, adminStoreErr(err, target))
		return
	}
	s.reply(w, res, nil)
}

// handlePruneDatastore serves POST /admin/datastore/{store}/prune-datastore:
// the keep rules applied to every group of ns and below (max-depth levels)
// as a task. Without Datastore.Modify on a namespace only the caller's own
// groups are pruned, and only where it holds Datastore.Prune (and a
// privilege that lets it see the namespace).
func (s *Server) handlePruneDatastore(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, adminKeepAllowed("ns", "max-depth", "dry-run")...)
	if !ok {
		return
	}
	ns := adminNSParam(p, "ns")
	depth := adminDepthParam(p, -1)
	opts, keep := adminKeepParams(p)
	dryRun := p.BoolOr("dry-run", false)
	if !s.paramsOK(w, p) {
		return
	}
	store := r.PathValue("store")
	path := ns.ACLPath(store)
	if !s.hasAnyPriv(id, path, adminPrivModify, adminPrivPrune) {
		mockcore.WritePBSError(w, http.StatusBadRequest,
			fmt.Sprintf("missing permissions '%s|%s' on '%s'", adminPrivModify, adminPrivPrune, path))
		return
	}
	st, ok := s.lookupStore(w, store)
	if !ok {
		return
	}

	task := s.adminStartTask("prune", store+":"+ns.String(), id)
	how := "down to full depth"
	maxDepth := datastore.MaxNamespaceDepth
	switch {
	case depth == 0:
		how, maxDepth = "non-recursive", 0
	case depth > 0 && depth < datastore.MaxNamespaceDepth:
		how, maxDepth = fmt.Sprintf("to depth %d", depth), int(depth)
	}
	s.adminTaskLog(task, "Starting datastore prune on %s, %s", adminStoreAndNS(store, ns), how)
	if dryRun {
		s.adminTaskLog(task, "(dry test run)")
	}
	if !opts.KeepsSomething() {
		s.adminTaskLog(task, "No prune selection - keeping all files.")
	} else {
		s.adminTaskLog(task, "retention options: %s", adminRetentionOptions(ns, depth, keep))
	}
	err := s.adminPruneTree(r.Context(), task, st, id, ns, maxDepth, opts, dryRun)
	s.adminFinishTask(task, err)
	s.reply(w, task.text, nil)
}

// adminPruneTree prunes the groups of the namespace tree below ns that id
// may prune (PBS's ListAccessibleBackupGroups with Datastore.Modify
// overriding the owner check and Datastore.Prune required of owners).
func (s *Server) adminPruneTree(ctx context.Context, task *adminTask, st *datastore.Store, id auth.Authid,
	ns datastore.Namespace, maxDepth int, opts datastore.PruneOptions, dryRun bool) error {
	spaces, err := st.ListNamespaces(ctx, ns, maxDepth)
	if err != nil {
		return adminStoreErr(err, adminTarget{ns: ns})
	}
	would := ""
	if dryRun {
		would = "would "
	}
	for _, it := range spaces {
		path := it.NS.ACLPath(st.Name())
		if !s.hasAnyPriv(id, path, adminNSPrivsOK...) {
			continue
		}
		override := s.hasAnyPriv(id, path, adminPrivModify)
		if !override && !s.hasAnyPriv(id, path, adminPrivPrune) {
			continue
		}
		groups, err := st.ListGroups(ctx, it.NS)
		if err != nil {
			return adminStoreErr(err, adminTarget{ns: it.NS})
		}
		for _, g := range groups {
			if !override && !adminOwns(g.Owner, id) {
				continue
			}
			res, err := st.Prune(ctx, it.NS, g.Group(), opts, dryRun)
			if err != nil {
				return adminStoreErr(err, adminTarget{ns: it.NS, group: g.Group()})
			}
			s.adminTaskLog(task, "Pruning group %s:\"%s\"", it.NS, g.Group())
			for _, r := range res {
				s.adminTaskLog(task, "%s%s %s/%s", would, r.Mark, g.Group(), datastore.FormatBackupTime(r.Snapshot.Time))
				if r.Err != nil {
					s.adminTaskWarn(task, "failed to remove dir %q: %s", adminQualified(it.NS, r.Snapshot.String()),
						adminStoreErr(r.Err, adminTarget{ns: it.NS, snap: r.Snapshot}).Message)
				}
			}
		}
	}
	return nil
}

// adminKeepAllowed is the parameters of a prune call: base and the keep-*
// options.
func adminKeepAllowed(base ...string) []string {
	for _, k := range adminKeepNames {
		base = append(base, "keep-"+k)
	}
	return base
}

// adminKeepParams reads the keep-* options (each at least 1).
func adminKeepParams(p *mockcore.Params) (datastore.PruneOptions, []int) {
	keep := make([]int, len(adminKeepNames))
	for i, k := range adminKeepNames {
		if p.Has("keep-" + k) {
			n, _ := intParam(p, "keep-"+k, 1, math.MaxInt32)
			keep[i] = int(n)
		}
	}
	return datastore.PruneOptions{KeepLast: keep[0], KeepHourly: keep[1], KeepDaily: keep[2],
		KeepWeekly: keep[3], KeepMonthly: keep[4], KeepYearly: keep[5], Location: time.Local}, keep
}

// adminRetentionOptions renders a prune's settings as the CLI flags PBS
// logs: --ns (not for the root), --max-depth (when depth >= 0), then the
// keep options.
func adminRetentionOptions(ns datastore.Namespace, depth int64, keep []int) string {
	var cli []string
	if !ns.IsRoot() {
		cli = append(cli, "--ns "+ns.String())
	}
	if depth >= 0 {
		cli = append(cli, fmt.Sprintf("--max-depth %d", depth))
	}
	for i, k := range adminKeepNames {
		if keep[i] > 0 {
			cli = append(cli, fmt.Sprintf("--keep-%s %d", k, keep[i]))
		}
	}
	return strings.Join(cli, " ")
}

// adminDirExists reports whether path is an existing directory.
func adminDirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// adminJobRoutes registers verify, garbage collection and prune.
func (s *Server) adminJobRoutes(rt *mockcore.Router) {
	rt.Handle("POST", "/admin/datastore/{store}/verify", s.handleVerify)
	rt.Handle("POST", "/admin/datastore/{store}/gc", s.handleGCStart)
	rt.Handle("GET", "/admin/datastore/{store}/gc", s.handleGCStatus)
	rt.Handle("POST", "/admin/datastore/{store}/prune", s.handlePrune)
	rt.Handle("POST", "/admin/datastore/{store}/prune-datastore", s.handlePruneDatastore)
}
