package pbstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// StateFile is the name of the access-control state file in the
// WithStateDir directory, next to the datastores.
const StateFile = "pbstest-state.json"

const stateVersion = 1

// stateFile is the persisted user.cfg, acl.cfg, token.shadow and password
// hashes. Secrets appear only as salted hashes (mockcore.SecretStore's
// JSON form).
type stateFile struct {
	Version   int                 `json:"version"`
	Users     []stateRecord       `json:"users"`
	Tokens    []stateRecord       `json:"tokens"`
	ACL       []mockcore.StateACL `json:"acl"`
	Secrets   json.RawMessage     `json:"secrets"`
	Passwords json.RawMessage     `json:"passwords"`
}

// stateRecord is a user or token section.
type stateRecord struct {
	ID        string `json:"id"`
	Comment   string `json:"comment,omitempty"`
	Enable    *bool  `json:"enable,omitempty"`
	Expire    *int64 `json:"expire,omitempty"`
	Firstname string `json:"firstname,omitempty"`
	Lastname  string `json:"lastname,omitempty"`
	Email     string `json:"email,omitempty"`
}

func (r stateRecord) account() account {
	return account{comment: r.Comment, enable: r.Enable, expire: r.Expire}
}

// saveLocked writes the state file when WithStateDir is set; every
// handler that changes users, tokens, passwords or ACLs calls it before
// answering. Caller holds s.mu (or has the server to itself).
func (s *Server) saveLocked() error {
	if s.cfg.StateDir == "" {
		return nil
	}
	return mockcore.WriteStateFile(s.cfg.StateDir, StateFile, s.snapshotLocked())
}

// snapshotLocked is the state as the state file holds it. Caller holds
// s.mu.
func (s *Server) snapshotLocked() stateFile {
	st := stateFile{Version: stateVersion}
	for _, u := range s.sortedUsersLocked() {
		st.Users = append(st.Users, stateRecord{ID: u.id.String(), Comment: u.comment, Enable: u.enable, Expire: u.expire,
			Firstname: u.firstname, Lastname: u.lastname, Email: u.email})
	}
	for _, t := range s.sortedTokensLocked(auth.Userid{}) {
		st.Tokens = append(st.Tokens, stateRecord{ID: t.id.String(), Comment: t.comment, Enable: t.enable, Expire: t.expire})
	}
	st.ACL = mockcore.StateACLs(s.policy.Entries())
	// Encoding maps of strings cannot fail.
	st.Secrets, _ = s.secrets.MarshalJSON()
	st.Passwords, _ = s.passwords.MarshalJSON()
	return st
}

// loadState reads the state file, if there is one, before the server
// starts. Records that do not parse make the start fail: a mock must not
// silently lose accounts.
func (s *Server) loadState() error {
	if s.cfg.StateDir == "" {
		return nil
	}
	var st stateFile
	path := filepath.Join(s.cfg.StateDir, StateFile)
	found, err := mockcore.ReadStateFile(path, &st)
	if err != nil || !found {
		return err
	}
	if err := s.applyState(st); err != nil {
		return fmt.Errorf("pbstest: %s: %w", path, err)
	}
	return nil
}

// applyState installs a decoded state file into a server that is not
// serving yet.
func (s *Server) applyState(st stateFile) error {
	if st.Version != stateVersion {
		return fmt.Errorf("unknown state version %d", st.Version)
	}
	for _, r := range st.Users {
		id, err := auth.ParseUserid(r.ID)
		if err != nil {
			return err
		}
		s.users[id] = &userRecord{id: id, account: r.account(), firstname: r.Firstname, lastname: r.Lastname, email: r.Email}
	}
	for _, r := range st.Tokens {
		id, err := auth.ParseAuthid(r.ID)
		if err != nil || !id.IsToken() {
			return fmt.Errorf("bad token id %q", r.ID)
		}
		s.tokens[id] = &tokenRecord{id: id, account: r.account()}
	}
	for _, a := range st.ACL {
		e, err := stateEntry(a)
		if err == nil {
			err = s.policy.Grant(e)
		}
		if err != nil {
			return fmt.Errorf("ACL entry on %s: %w", a.Path, err)
		}
	}
	if err := s.secrets.UnmarshalJSON(orEmpty(st.Secrets)); err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	if err := s.passwords.UnmarshalJSON(orEmpty(st.Passwords)); err != nil {
		return fmt.Errorf("passwords: %w", err)
	}
	return nil
}

// stateEntry converts a state file's ACL entry back, refusing roles PBS
// does not have.
func stateEntry(a mockcore.StateACL) (acl.Entry, error) {
	e, ok := a.Entry()
	if !ok {
		return e, fmt.Errorf("unknown subject type %q", a.Type)
	}
	if !acl.IsBuiltinRole(auth.PBS, a.Role) {
		return e, fmt.Errorf("unknown role %q", a.Role)
	}
	return e, nil
}

func orEmpty(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("{}")
	}
	return b
}

// replySavedLocked persists the change (saveLocked) and writes the
// success answer, or a 500 when the state cannot be written. Caller holds
// s.mu.
func (s *Server) replySavedLocked(w http.ResponseWriter, data any) {
	if err := s.saveLocked(); err != nil {
		mockcore.WritePBSError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.reply(w, data, nil)
}
