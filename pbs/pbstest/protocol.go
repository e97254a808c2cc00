package pbstest

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/proxkit/proxkit/internal/h2upgrade"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// Privileges the protocol upgrades check (pbs-protocol.md 3.1, 4.1, 7.3).
const (
	privBackup = "Datastore.Backup"
	privRead   = "Datastore.Read"
)

// errDropped is the cause of a session ended by a Drop fault.
var errDropped = errors.New("pbstest: connection dropped by an injected fault")

// handleBackupUpgrade serves GET /api2/json/backup (and the Rust client's
// //api2/json/backup): the checks of pbs-protocol.md 3.1 in PBS's order,
// then the backup session over HTTP/2 on the same connection until the
// client closes it. A session that did not finish leaves nothing behind.
func (s *Server) handleBackupUpgrade(w http.ResponseWriter, r *http.Request) {
	if s.upgradeFault(w, r) {
		return
	}
	id, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	p, ok := s.params(w, r)
	if !ok {
		return
	}
	t, err := decodeUpgrade(p, true)
	if err != nil {
		s.fail(w, err)
		return
	}
	aclPath := t.ns.ACLPath(t.store)
	if !s.hasPrivs(id, aclPath, privBackup) {
		mockcore.AuthFailureDelay(s.cfg.deniedDelay).Wait(r)
		mockcore.WritePBSError(w, http.StatusForbidden, fmt.Sprintf("missing permissions '%s' on '%s'", privBackup, aclPath))
		return
	}
	store, ok := s.lookupStore(w, t.store)
	if !ok {
		return
	}
	if err := h2upgrade.CheckUpgrade(r, h2upgrade.BackupProtocol); err != nil {
		s.fail(w, err)
		return
	}
	sess, err := startBackup(store, t, id, s.protocol.chunks)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.serveSession(w, r, h2upgrade.BackupProtocol, sess.handler, func() { _, _ = sess.end() })
}

// handleReaderUpgrade serves GET /api2/json/reader: the checks of
// pbs-protocol.md 4.1, then the reader session.
func (s *Server) handleReaderUpgrade(w http.ResponseWriter, r *http.Request) {
	if s.upgradeFault(w, r) {
		return
	}
	id, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	p, ok := s.params(w, r)
	if !ok {
		return
	}
	t, err := decodeUpgrade(p, false)
	if err != nil {
		s.fail(w, err)
		return
	}
	aclPath := t.ns.ACLPath(t.store)
	privs := s.privileges(id, aclPath)
	canRead := privs.Has(privRead)
	if !canRead && !privs.Has(privBackup) {
		// Not a 403: PBS answers this with a plain error.
		s.fail(w, fmt.Errorf("no permissions on %s", aclPath))
		return
	}
	store, ok := s.lookupStore(w, t.store)
	if !ok {
		return
	}
	if err := h2upgrade.CheckUpgrade(r, h2upgrade.ReaderProtocol); err != nil {
		s.fail(w, err)
		return
	}
	if !canRead {
		owner, err := store.GroupOwner(t.ns, t.snap.Group)
		if err != nil {
			s.fail(w, err)
			return
		}
		if !ownerMatches(owner, id) {
			s.fail(w, errors.New("backup owner check failed!"))
			return
		}
	}
	rs, err := startReader(store, t, s.protocol.chunks)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.serveSession(w, r, h2upgrade.ReaderProtocol, rs.handler, func() { _ = rs.end() })
}

// serveSession upgrades the connection and serves a session's handler on
// it until the connection ends, then runs end. Drop faults and server
// shutdown end the session through its context.
func (s *Server) serveSession(w http.ResponseWriter, r *http.Request, protocol string,
	handler func(*faultSet, func()) http.Handler, end func()) {
	s.protocol.sessionStarted()
	defer s.protocol.sessionEnded()
	defer end()
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	h := handler(&s.protocol.faults, func() { cancel(errDropped) })
	err := h2upgrade.Upgrade(w, r, protocol, h, h2upgrade.WithContext(ctx))
	if errors.Is(err, h2upgrade.ErrNotHijackable) {
		// Nothing was written yet (it never happens on this server,
		// which serves HTTP/1.1 only).
		s.fail(w, err)
	}
}

// upgradeFault applies the faults that match an upgrade request. It
// reports whether the request is done with.
func (s *Server) upgradeFault(w http.ResponseWriter, r *http.Request) bool {
	act := s.protocol.faults.hit(r.URL.Path, true)
	return act.apply(r.Context(), w, func() {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	})
}

// ActiveSessions returns the number of backup and reader sessions in
// progress, counting a session until its end-of-session cleanup (removal
// of an unfinished snapshot) is done.
func (s *Server) ActiveSessions() int { return s.protocol.activeSessions() }

// WaitSessions waits until no backup or reader session is in progress,
// or ctx ends. A client that drops a session learns of it before the
// server does; call this before checking what the server kept, or before
// a retry that needs the group lock the old session still holds.
func (s *Server) WaitSessions(ctx context.Context) error { return s.protocol.waitIdle(ctx) }
