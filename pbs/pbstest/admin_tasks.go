package pbstest

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/internal/mockcore"
	"github.com/proxkit/proxkit/pbs"
)

// adminTaskNode is the node name in the mock's UPIDs. PBS answers task
// calls under /nodes/localhost and under its own node name.
const adminTaskNode = "localhost"

// adminTask is one server task (verify, garbage collection, prune). The
// mock runs tasks synchronously inside the request that starts them, so
// a task is normally finished by the time its UPID is returned; the state
// is kept for the status and log endpoints. Fields are guarded by
// Server.admin.mu.
type adminTask struct {
	upid     pbs.UPID
	text     string   // upid.String()
	lines    []string // "<rfc3339 local time>: <message>"
	warnings int
	running  bool
	exit     string // TaskState text once stopped
	started  time.Time
}

// adminStartTask registers a new running task of workerType on workerID
// (unescaped; "" for none) started by caller.
func (s *Server) adminStartTask(workerType, workerID string, caller auth.Authid) *adminTask {
	now := s.now()
	a := &s.admin
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tasks == nil {
		a.tasks = map[string]*adminTask{}
	}
	u := pbs.UPID{
		Node: adminTaskNode, PID: uint32(os.Getpid()), PStart: 0, TaskID: a.nextTaskID,
		StartTime: now.Truncate(time.Second).UTC(), WorkerType: workerType, WorkerID: workerID, AuthID: caller,
	}
	a.nextTaskID++
	t := &adminTask{upid: u, text: u.String(), running: true, started: now}
	a.tasks[t.text] = t
	a.order = append(a.order, t.text)
	return t
}

// adminTaskLog appends a line to the log of t, stamped as PBS stamps task
// log lines (RFC 3339 in the server's local time zone).
func (s *Server) adminTaskLog(t *adminTask, format string, args ...any) {
	line := s.now().Local().Format("2006-01-02T15:04:05-07:00") + ": " + fmt.Sprintf(format, args...)
	s.admin.mu.Lock()
	t.lines = append(t.lines, line)
	s.admin.mu.Unlock()
}

// adminTaskWarn logs a warning, which makes the task end with
// "WARNINGS: n" instead of "OK".
func (s *Server) adminTaskWarn(t *adminTask, format string, args ...any) {
	s.adminTaskLog(t, "WARN: "+format, args...)
	s.admin.mu.Lock()
	t.warnings++
	s.admin.mu.Unlock()
}

// adminFinishTask ends t with err (nil: success) and writes PBS's last
// log line ("TASK OK", "TASK WARNINGS: n", "TASK ERROR: msg").
func (s *Server) adminFinishTask(t *adminTask, err error) string {
	s.admin.mu.Lock()
	warnings := t.warnings
	s.admin.mu.Unlock()
	var exit string
	switch {
	case err != nil:
		exit = err.Error()
	case warnings > 0:
		exit = fmt.Sprintf("WARNINGS: %d", warnings)
	default:
		exit = "OK"
	}
	if err != nil {
		s.adminTaskLog(t, "TASK ERROR: %s", exit)
	} else {
		s.adminTaskLog(t, "TASK %s", exit)
	}
	s.admin.mu.Lock()
	t.running, t.exit = false, exit
	s.admin.mu.Unlock()
	return exit
}

// adminTaskRoutes registers the task endpoints.
func (s *Server) adminTaskRoutes(rt *mockcore.Router) {
	rt.Handle("GET", "/nodes/{node}/tasks/{upid}/status", s.handleTaskStatus)
	rt.Handle("GET", "/nodes/{node}/tasks/{upid}/log", s.handleTaskLog)
}

// adminTaskRequest authenticates, parses the {upid} segment and applies
// PBS's check_task_access. It returns the task (nil for a UPID the mock
// never ran) and the parsed UPID.
func (s *Server) adminTaskRequest(w http.ResponseWriter, r *http.Request, allowed ...string) (*adminTask, pbs.UPID, *mockcore.Params, bool) {
	id, p, ok := s.authenticatedCall(w, r, allowed...)
	if !ok {
		return nil, pbs.UPID{}, nil, false
	}
	upid, err := pbs.ParseUPID(r.PathValue("upid"))
	if err != nil {
		p.Fail("upid", msgRegex)
	}
	if !s.paramsOK(w, p) {
		return nil, pbs.UPID{}, nil, false
	}
	if !s.adminTaskAccess(id, upid) {
		mockcore.WritePBSError(w, http.StatusBadRequest, "task access not allowed")
		return nil, pbs.UPID{}, nil, false
	}
	s.admin.mu.Lock()
	t := s.admin.tasks[upid.String()]
	s.admin.mu.Unlock()
	return t, upid, p, true
}

// adminTaskAccess is PBS's check_task_access: the task's own auth id, or
// the user of the token that started it, may always read it; others need
// Sys.Audit on /system/tasks, or the privilege that runs such a job on its
// datastore (Datastore.Modify for garbage collection and prune).
func (s *Server) adminTaskAccess(id auth.Authid, upid pbs.UPID) bool {
	owner := upid.AuthID
	if owner == id || (owner.IsToken() && !id.IsToken() && owner.User() == id.User()) {
		return true
	}
	if s.hasPrivs(id, "/system/tasks", acl.PrivSysAudit) {
		return true
	}
	switch upid.WorkerType {
	case "garbage_collection":
		return s.hasAnyPriv(id, "/datastore/"+upid.WorkerID, adminPrivModify)
	case "prune", "prunejob":
		parts := strings.Split(upid.WorkerID, ":")
		if len(parts) == 3 {
			parts = parts[:2] // store, namespace; the group is not an ACL level
		}
		if len(parts) < 1 || len(parts) > 2 {
			return false
		}
		path := "/datastore/" + parts[0]
		if len(parts) == 2 && parts[1] != "" {
			path += "/" + parts[1]
		}
		return s.hasAnyPriv(id, path, adminPrivModify)
	}
	return false
}

// handleTaskStatus serves GET /nodes/{node}/tasks/{upid}/status.
func (s *Server) handleTaskStatus(w http.ResponseWriter, r *http.Request) {
	t, upid, _, ok := s.adminTaskRequest(w, r)
	if !ok {
		return
	}
	out := map[string]any{
		"upid":      r.PathValue("upid"),
		"node":      upid.Node,
		"pid":       upid.PID,
		"pstart":    upid.PStart,
		"starttime": upid.StartTime.Unix(),
		"type":      upid.WorkerType,
		"id":        nil,
		"user":      upid.AuthID.User().String(),
	}
	if upid.WorkerID != "" {
		out["id"] = upid.WorkerID
	}
	if upid.AuthID.IsToken() {
		out["tokenid"] = string(upid.AuthID.TokenName())
	}
	// A task the mock does not know is one whose state file is missing:
	// PBS reports it stopped with status "unknown".
	status, exit := "stopped", "unknown"
	if t != nil {
		s.admin.mu.Lock()
		if t.running {
			status, exit = "running", ""
		} else {
			exit = t.exit
		}
		s.admin.mu.Unlock()
	}
	out["status"] = status
	if status == "stopped" {
		out["exitstatus"] = exit
	}
	s.reply(w, out, nil)
}

// adminLogLine is one line of GET .../log.
type adminLogLine struct {
	N uint64 `json:"n"`
	T string `json:"t"`
}

// handleTaskLog serves GET /nodes/{node}/tasks/{upid}/log: lines from start
// (numbered from 1) up to limit (default 50, 0 = all), with "total" and,
// with test-status, "active" next to data; download returns the whole log
// as text.
func (s *Server) handleTaskLog(w http.ResponseWriter, r *http.Request) {
	t, upid, p, ok := s.adminTaskRequest(w, r, "start", "limit", "download", "test-status")
	if !ok {
		return
	}
	start, _ := intParam(p, "start", 0, 1<<62)
	limit := int64(50)
	if p.Has("limit") {
		limit, _ = intParam(p, "limit", 0, 1<<62)
	}
	download := p.BoolOr("download", false)
	testStatus := p.BoolOr("test-status", false)
	if !s.paramsOK(w, p) {
		return
	}
	if t == nil {
		mockcore.WritePBSError(w, http.StatusBadRequest, "No such file or directory (os error 2)")
		return
	}
	s.admin.mu.Lock()
	lines := append([]string(nil), t.lines...)
	active := t.running
	s.admin.mu.Unlock()

	if download {
		if p.Has("start") || p.Has("limit") || p.Has("test-status") {
			mockcore.WritePBSError(w, http.StatusBadRequest, "Parameter 'download' cannot be used with other parameters")
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=task-%s-%s-%s.log",
			upid.Node, upid.WorkerType, upid.StartTime.Format(time.RFC3339)))
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
		return
	}
	out := []adminLogLine{}
	for i, l := range lines {
		n := uint64(i + 1)
		if int64(n) < start {
			continue
		}
		if limit > 0 && int64(len(out)) >= limit {
			continue
		}
		out = append(out, adminLogLine{N: n, T: l})
	}
	extra := map[string]any{"total": len(lines), "success": 1}
	if testStatus {
		extra["active"] = active
	}
	s.reply(w, out, extra)
}
