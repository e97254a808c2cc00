package pbstest

import (
	"context"
	"sync"
)

// protocolState is the backup/reader protocol side's per-server state
// (Server.protocol), initialised by protocolRoutes before the server
// serves.
type protocolState struct {
	faults faultSet
	chunks *chunkWorkers

	mu      sync.Mutex
	active  int
	changed chan struct{} // closed and replaced whenever active changes
}

// protocolOptions is what the protocol side's options set
// (config.protocol).
type protocolOptions struct {
	faults []Fault
}

// init prepares the state from the options.
func (ps *protocolState) init(opts protocolOptions) {
	ps.chunks = newChunkWorkers(0)
	ps.faults.add(opts.faults...)
	ps.changed = make(chan struct{})
}

// sessionStarted and sessionEnded count the sessions in progress; a
// session ends when its end-of-session cleanup is done.
func (ps *protocolState) sessionStarted() { ps.addActive(1) }
func (ps *protocolState) sessionEnded()   { ps.addActive(-1) }

func (ps *protocolState) addActive(n int) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.active += n
	close(ps.changed)
	ps.changed = make(chan struct{})
}

// activeSessions returns the number of sessions in progress.
func (ps *protocolState) activeSessions() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.active
}

// waitIdle waits until no session is in progress or ctx ends.
func (ps *protocolState) waitIdle(ctx context.Context) error {
	for {
		ps.mu.Lock()
		n, ch := ps.active, ps.changed
		ps.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
