package pbstest

import "sync"

// adminState is the datastore-administration side's per-server state
// (Server.admin): the tasks verify, garbage collection and prune ran, and
// which datastores are collecting garbage right now. Its zero value is
// usable; it has its own lock, independent of Server.mu.
type adminState struct {
	mu sync.Mutex
	// tasks holds every task by its UPID text, oldest first in order.
	tasks map[string]*adminTask
	order []string
	// nextTaskID numbers tasks within the mock, like PBS's per-process
	// task counter.
	nextTaskID uint64
	// gcRunning marks datastores with a garbage collection in progress.
	gcRunning map[string]bool
	// gcLast is the end and outcome of the last collection per datastore,
	// what GET .../gc reports as the job state.
	gcLast map[string]adminJobRun
}

// adminJobRun is the end of the last run of a job on a datastore.
type adminJobRun struct {
	upid  string
	end   int64  // epoch seconds
	state string // TaskState text: "OK", "WARNINGS: n", the error
	took  int64  // seconds
}

// adminOptions is what the datastore-administration side's options set
// (config.admin). Nothing yet.
type adminOptions struct{}
