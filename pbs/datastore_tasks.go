package pbs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/httpapi"
)

// ErrTaskFailed is matched by every *TaskError.
var ErrTaskFailed = errors.New("task failed")

// TaskError reports a server task that ended without success.
type TaskError struct {
	UPID UPID
	// ExitStatus is the server's verdict: the error message, or "unknown"
	// when the server lost track of the task.
	ExitStatus string
}

// Error returns "pbs: task <type> <id>: <exit status>".
func (e *TaskError) Error() string {
	what := e.UPID.WorkerType
	if e.UPID.WorkerID != "" {
		what += " " + e.UPID.WorkerID
	}
	return fmt.Sprintf("pbs: task %s failed: %s", what, e.ExitStatus)
}

// Is makes errors.Is(err, ErrTaskFailed) true.
func (e *TaskError) Is(target error) bool { return target == ErrTaskFailed }

// TaskStatus is the state of a server task.
type TaskStatus struct {
	UPID      UPID
	Node      string
	PID       int64
	PStart    uint64
	StartTime time.Time
	// Type and ID are the UPID's worker type and (unescaped) worker id.
	Type string
	ID   string
	// User is who started the task: a user, or a token of that user.
	User auth.Authid
	// Running is true until the task has ended.
	Running bool
	// ExitStatus is "" while running, then "OK", "WARNINGS: <n>", the
	// error message, or "unknown".
	ExitStatus string
}

// Succeeded reports whether the task ended with "OK" or with warnings.
func (t *TaskStatus) Succeeded() bool {
	return !t.Running && (t.ExitStatus == "OK" || strings.HasPrefix(t.ExitStatus, "WARNINGS"))
}

// Err returns nil while the task runs or after it succeeded, else a
// *TaskError.
func (t *TaskStatus) Err() error {
	if t.Running || t.Succeeded() {
		return nil
	}
	return &TaskError{UPID: t.UPID, ExitStatus: t.ExitStatus}
}

// UnmarshalJSON decodes the task status object, joining "user" and
// "tokenid" into one auth id.
func (t *TaskStatus) UnmarshalJSON(b []byte) error {
	var w struct {
		UPID       UPID    `json:"upid"`
		Node       string  `json:"node"`
		PID        int64   `json:"pid"`
		PStart     uint64  `json:"pstart"`
		StartTime  int64   `json:"starttime"`
		Type       string  `json:"type"`
		ID         *string `json:"id"`
		User       string  `json:"user"`
		TokenID    string  `json:"tokenid"`
		Status     string  `json:"status"`
		ExitStatus string  `json:"exitstatus"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.UPID.IsZero() {
		return fmt.Errorf("pbs: task status without upid")
	}
	user, err := auth.ParseUserid(w.User)
	if err != nil {
		return fmt.Errorf("pbs: task user: %w", err)
	}
	id := user.Authid()
	if w.TokenID != "" {
		name, err := auth.ParseTokenName(w.TokenID)
		if err != nil {
			return fmt.Errorf("pbs: task tokenid: %w", err)
		}
		if id, err = auth.NewTokenID(user, name); err != nil {
			return fmt.Errorf("pbs: task tokenid: %w", err)
		}
	}
	var running bool
	switch w.Status {
	case "running":
		running = true
	case "stopped":
	default:
		return fmt.Errorf("pbs: unknown task status %q", w.Status)
	}
	*t = TaskStatus{UPID: w.UPID, Node: w.Node, PID: w.PID, PStart: w.PStart, StartTime: dsEpoch(w.StartTime),
		Type: w.Type, User: id, Running: running, ExitStatus: w.ExitStatus}
	if w.ID != nil {
		t.ID = *w.ID
	}
	return nil
}

// TaskStatus returns the state of task upid.
//
// PBS: GET /nodes/localhost/tasks/{upid}/status (the task's own user or
// its tokens, or Sys.Audit on /system/tasks, or the privilege that starts
// such a job on its datastore)
func (s *DatastoreService) TaskStatus(ctx context.Context, upid UPID) (*TaskStatus, error) {
	var out TaskStatus
	if err := s.c.api.Get(ctx, dsTaskPath(upid, "status"), nil, &out); err != nil {
		return nil, wrapError(err)
	}
	return &out, nil
}

// TaskLogLine is one line of a task log, numbered from 1.
type TaskLogLine struct {
	N    uint64 `json:"n"`
	Text string `json:"t"`
}

// TaskLog is a window of a task log.
type TaskLog struct {
	Lines []TaskLogLine
	// Total is the number of lines the log has so far.
	Total uint64
	// Active is true while the task runs (more lines may come).
	Active bool
}

// TaskLog returns up to limit lines of the log of task upid from line
// start on (lines are numbered from 1; limit 0 means all of them).
//
// PBS: GET /nodes/localhost/tasks/{upid}/log (same access as TaskStatus)
func (s *DatastoreService) TaskLog(ctx context.Context, upid UPID, start, limit uint64) (*TaskLog, error) {
	var v httpapi.Values
	v.SetInt("start", int64(min(start, 1<<62)))
	v.SetInt("limit", int64(min(limit, 1<<62)))
	v.SetBool("test-status", true)
	var lines []TaskLogLine
	path := dsTaskPath(upid, "log")
	resp, err := s.c.api.Do(ctx, httpapi.Request{Path: path, Params: v, Out: &lines})
	if err != nil {
		return nil, wrapError(err)
	}
	out := &TaskLog{Lines: lines}
	if resp.Total < 0 {
		return nil, &httpapi.DecodeError{Product: s.c.api.Product(), Method: "GET", Path: path, Status: resp.StatusCode,
			Reason: "negative total"}
	}
	out.Total = uint64(resp.Total)
	if raw, ok := resp.Attributes["active"]; ok {
		if err := json.Unmarshal(raw, &out.Active); err != nil {
			return nil, &httpapi.DecodeError{Product: s.c.api.Product(), Method: "GET", Path: path,
				Status: resp.StatusCode, Reason: `"active" is not a boolean`, Err: err}
		}
	}
	return out, nil
}

// WaitOptions tunes WaitTask.
type WaitOptions struct {
	// Interval between polls; 0 means one second, as the reference
	// client polls.
	Interval time.Duration
	// Log, if set, receives every log line in order as the task writes it.
	Log func(TaskLogLine)
}

// WaitTask polls task upid until it ends and returns its final status. A
// task that failed is returned together with a *TaskError (errors.Is
// ErrTaskFailed); an error talking to the server is returned alone. The
// context ends the wait, not the task.
//
// PBS: GET /nodes/localhost/tasks/{upid}/status and .../log (same access as
// TaskStatus)
func (s *DatastoreService) WaitTask(ctx context.Context, upid UPID, opts *WaitOptions) (*TaskStatus, error) {
	var o WaitOptions
	if opts != nil {
		o = *opts
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	next := uint64(1) // next log line to hand to o.Log
	for {
		st, err := s.TaskStatus(ctx, upid)
		if err != nil {
			return nil, err
		}
		if o.Log != nil {
			// Read the log after the status: once the task is seen
			// stopped, its log is complete.
			if next, err = s.drainLog(ctx, upid, next, o.Log); err != nil {
				return nil, err
			}
		}
		if !st.Running {
			return st, st.Err()
		}
		t := time.NewTimer(o.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// drainLog hands every log line from next on to fn and returns the number
// of the next line to read.
func (s *DatastoreService) drainLog(ctx context.Context, upid UPID, next uint64, fn func(TaskLogLine)) (uint64, error) {
	const batch = 500
	for {
		l, err := s.TaskLog(ctx, upid, next, batch)
		if err != nil {
			return next, err
		}
		for _, line := range l.Lines {
			if line.N != next {
				return next, fmt.Errorf("pbs: task log: got line %d, want %d: %w", line.N, next, ErrMalformedResponse)
			}
			fn(line)
			next++
		}
		if len(l.Lines) < batch || next > l.Total {
			return next, nil
		}
	}
}

// dsTaskPath is /nodes/localhost/tasks/{upid}/{sub}.
func dsTaskPath(upid UPID, sub string) string {
	return httpapi.JoinPath("nodes", "localhost", "tasks", upid.String(), sub)
}
