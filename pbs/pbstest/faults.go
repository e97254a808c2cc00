package pbstest

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"sync"
	"time"

	"github.com/proxkit/proxkit/internal/mockcore"
)

// Fault is one failure the server injects into backup and reader sessions,
// so tests can prove that a client survives it: that no partial snapshot
// is left behind, that the error names what failed, and that a retry
// succeeds. Faults are counted from the moment they are armed (WithFaults
// or Server.InjectFault), over all sessions of the server.
//
// A request matched by a fault is not handled: it has no effect on the
// session (a chunk answered with an injected 500 is not stored), except that
// a dropped connection ends the whole session, which then leaves nothing
// behind unless it had already finished.
type Fault struct {
	// Path selects the requests the fault counts, as a path.Match pattern
	// against the request path: session paths have no /api2/json prefix
	// ("/dynamic_chunk", "/fixed_close", "/finish", "/download"; "/*_chunk"
	// matches both chunk uploads of the backup protocol), the upgrade
	// requests themselves are "/api2/json/backup" and "/api2/json/reader".
	// An empty Path matches every request inside a session (but no
	// upgrade request).
	Path string

	// Nth is the matching request the fault hits, counted from 1; zero
	// means the first.
	Nth int

	// Repeat makes the fault hit every matching request from the Nth on
	// instead of only the Nth.
	Repeat bool

	// Status, if not zero, answers the request with this HTTP status and
	// Message, in PBS's error format (plain text).
	Status int

	// Message is the body of a Status fault; empty means
	// "injected fault".
	Message string

	// Drop closes the connection of the request when it arrives, without
	// an answer: for a session request the whole session ends, as when a
	// network link breaks.
	Drop bool

	// Delay holds the request back this long before it is handled (a slow
	// server), or before it fails when Status or Drop is set too.
	Delay time.Duration
}

// DefaultFaultMessage is the body of a Status fault without a Message.
const DefaultFaultMessage = "injected fault"

// DropAfterChunks drops the session connection when a chunk upload
// (POST fixed_chunk or dynamic_chunk) arrives after n chunk uploads have
// been served; DropAfterChunks(0) drops at the first one. It fires once.
func DropAfterChunks(n int) Fault {
	return Fault{Path: "/*_chunk", Nth: n + 1, Drop: true}
}

// FailRequest answers the nth request inside a session (of any path)
// with status. It fires once.
func FailRequest(n, status int) Fault {
	return Fault{Nth: n, Status: status}
}

// FailPath answers the nth session request whose path matches pattern
// (see Fault.Path) with status, e.g. FailPath("/dynamic_close", 1, 400)
// for a failed close. It fires once.
func FailPath(pattern string, n, status int) Fault {
	return Fault{Path: pattern, Nth: n, Status: status}
}

// SlowResponses delays every session request by d.
func SlowResponses(d time.Duration) Fault {
	return Fault{Repeat: true, Delay: d}
}

// faultSet holds the armed faults of a server. It is safe for concurrent
// use; the zero value has none.
type faultSet struct {
	mu     sync.Mutex
	faults []*armedFault
}

// armedFault is a fault with its count of matching requests.
type armedFault struct {
	f    Fault
	seen int
}

// faultAction is what the faults decided for one request.
type faultAction struct {
	delay   time.Duration
	drop    bool
	status  int
	message string
}

// add arms faults.
func (fs *faultSet) add(faults ...Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range faults {
		fs.faults = append(fs.faults, &armedFault{f: f})
	}
}

// clear disarms every fault.
func (fs *faultSet) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.faults = nil
}

// pending returns the number of armed faults that have not fired yet (a
// repeating fault stays pending forever).
func (fs *faultSet) pending() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.faults)
}

// hit counts a request of reqPath against every armed fault and returns
// what to do with it. upgrade tells whether it is an upgrade request,
// which only faults with an explicit Path match. Delays of several faults
// add up; the first failing fault decides the failure.
func (fs *faultSet) hit(reqPath string, upgrade bool) faultAction {
	if fs == nil {
		return faultAction{}
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var act faultAction
	kept := fs.faults[:0]
	for _, af := range fs.faults {
		if !af.f.matches(reqPath, upgrade) {
			kept = append(kept, af)
			continue
		}
		af.seen++
		nth := max(af.f.Nth, 1)
		if af.seen < nth {
			kept = append(kept, af)
			continue
		}
		if af.f.Repeat {
			kept = append(kept, af)
		}
		act.delay += af.f.Delay
		if act.drop || act.status != 0 {
			continue
		}
		switch {
		case af.f.Drop:
			act.drop = true
		case af.f.Status != 0:
			act.status = af.f.Status
			act.message = af.f.Message
			if act.message == "" {
				act.message = DefaultFaultMessage
			}
		}
	}
	clear(fs.faults[len(kept):])
	fs.faults = kept
	return act
}

// matches reports whether f counts a request of reqPath.
func (f Fault) matches(reqPath string, upgrade bool) bool {
	if f.Path == "" {
		return !upgrade
	}
	ok, err := path.Match(f.Path, reqPath)
	return ok && err == nil
}

// apply carries out act for a request: it waits out the delay (or the
// request's end) and then fails the request if act says so, by writing
// the status or by calling drop. It reports whether the request is done
// with, i.e. must not be handled.
func (act faultAction) apply(ctx context.Context, w http.ResponseWriter, drop func()) bool {
	if act.delay > 0 {
		t := time.NewTimer(act.delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return true
		}
	}
	switch {
	case act.drop:
		drop()
		return true
	case act.status != 0:
		mockcore.WritePBSError(w, act.status, act.message)
		return true
	}
	return false
}

// String describes the fault for test logs.
func (f Fault) String() string {
	s := "fault on "
	if f.Path == "" {
		s += "any session request"
	} else {
		s += strconv.Quote(f.Path)
	}
	s += " #" + strconv.Itoa(max(f.Nth, 1))
	if f.Repeat {
		s += "+"
	}
	switch {
	case f.Drop:
		s += ": drop connection"
	case f.Status != 0:
		s += ": status " + strconv.Itoa(f.Status)
	}
	if f.Delay > 0 {
		s += ", delay " + f.Delay.String()
	}
	return s
}

// WithFaults arms faults from the start (see Fault). More can be armed
// later with Server.InjectFault.
func WithFaults(faults ...Fault) Option {
	return func(c *config) error {
		for _, f := range faults {
			if f.Nth < 0 || f.Delay < 0 || f.Status < 0 || f.Status > 999 {
				return fmt.Errorf("pbstest: WithFaults: invalid %v", f)
			}
			if _, err := path.Match(f.Path, "/"); err != nil {
				return fmt.Errorf("pbstest: WithFaults: bad path pattern %q: %w", f.Path, err)
			}
		}
		c.protocol.faults = append(c.protocol.faults, faults...)
		return nil
	}
}

// InjectFault arms faults on the running server; they count requests from
// now on.
func (s *Server) InjectFault(faults ...Fault) { s.protocol.faults.add(faults...) }

// ClearFaults disarms every fault.
func (s *Server) ClearFaults() { s.protocol.faults.clear() }

// PendingFaults returns how many armed faults have not hit yet; a fault
// with Repeat stays pending. A test can assert it is 0 to prove its fault
// was reached.
func (s *Server) PendingFaults() int { return s.protocol.faults.pending() }
