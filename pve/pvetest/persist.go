package pvetest

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// StateFile is the name of the state file in the WithStateDir directory.
const StateFile = "pvetest-state.json"

const stateVersion = 1

// stateFile is the persisted access-control state. Secrets and passwords
// appear only as salted hashes (mockcore.SecretStore's JSON form).
type stateFile struct {
	Version   int                 `json:"version"`
	Users     []stateUser         `json:"users"`
	Groups    []stateGroup        `json:"groups"`
	Roles     map[string][]string `json:"roles"`
	ACL       []mockcore.StateACL `json:"acl"`
	Secrets   json.RawMessage     `json:"secrets"`
	Passwords json.RawMessage     `json:"passwords"`
}

type stateUser struct {
	ID        string                `json:"userid"`
	Enable    bool                  `json:"enable"`
	Expire    int64                 `json:"expire,omitempty"`
	Firstname string                `json:"firstname,omitempty"`
	Lastname  string                `json:"lastname,omitempty"`
	Email     string                `json:"email,omitempty"`
	Comment   string                `json:"comment,omitempty"`
	Keys      string                `json:"keys,omitempty"`
	Tokens    map[string]stateToken `json:"tokens,omitempty"`
}

type stateToken struct {
	Privsep bool   `json:"privsep"`
	Expire  int64  `json:"expire,omitempty"`
	Comment string `json:"comment,omitempty"`
}

type stateGroup struct {
	ID      string   `json:"groupid"`
	Comment string   `json:"comment,omitempty"`
	Members []string `json:"members,omitempty"`
}

func (s *Server) statePath() string { return filepath.Join(s.cfg.StateDir, StateFile) }

// saveLocked writes the state file (when WithStateDir is set), atomically
// and with mode 0600. Caller holds s.mu or has the server to itself.
func (s *Server) saveLocked() error {
	if s.cfg.StateDir == "" {
		return nil
	}
	return mockcore.WriteStateFile(s.cfg.StateDir, StateFile, s.snapshotLocked())
}

func (s *Server) snapshotLocked() stateFile {
	st := stateFile{Version: stateVersion, Roles: map[string][]string{}}
	for _, id := range s.sortedUserIDsLocked() {
		u := s.users[id]
		su := stateUser{
			ID: id.String(), Enable: u.enable, Expire: u.expire, Firstname: u.firstname,
			Lastname: u.lastname, Email: u.email, Comment: u.comment, Keys: u.keys,
		}
		if len(u.tokens) > 0 {
			su.Tokens = map[string]stateToken{}
			for name, t := range u.tokens {
				su.Tokens[name] = stateToken{Privsep: t.privsep, Expire: t.expire, Comment: t.comment}
			}
		}
		st.Users = append(st.Users, su)
	}
	for _, g := range s.policy.Groups() {
		sg := stateGroup{ID: g}
		if rec := s.groups[g]; rec != nil {
			sg.Comment = rec.comment
		}
		for _, m := range s.policy.GroupMembers(g) {
			sg.Members = append(sg.Members, m.String())
		}
		st.Groups = append(st.Groups, sg)
	}
	for _, r := range s.policy.RoleNames() {
		if !s.policy.IsBuiltinRole(r) {
			privs, _ := s.policy.Role(r)
			st.Roles[r] = privs
		}
	}
	st.ACL = mockcore.StateACLs(s.policy.Entries())
	st.Secrets, _ = s.secrets.MarshalJSON()
	st.Passwords, _ = s.passwords.MarshalJSON()
	return st
}

// loadState reads the state file if it exists; a missing file is a fresh
// start. The server is not running yet.
func (s *Server) loadState() error {
	var st stateFile
	found, err := mockcore.ReadStateFile(s.statePath(), &st)
	if err != nil || !found {
		return err
	}
	if err := s.restore(st); err != nil {
		s.resetState()
		return fmt.Errorf("pvetest: state file %s: %w", s.statePath(), err)
	}
	return nil
}

// restore rebuilds the state in the order PVE reads user.cfg: users,
// groups, roles, then ACL entries (which need all of them).
func (s *Server) restore(st stateFile) error {
	if st.Version != stateVersion {
		return fmt.Errorf("unsupported version %d", st.Version)
	}
	for _, su := range st.Users {
		id, err := auth.ParseUserid(su.ID)
		if err != nil {
			return err
		}
		u := newUser()
		u.enable, u.expire, u.firstname, u.lastname = su.Enable, su.Expire, su.Firstname, su.Lastname
		u.email, u.comment, u.keys = su.Email, su.Comment, su.Keys
		for name, t := range su.Tokens {
			tid, err := auth.ParseAuthid(id.String() + "!" + name)
			if err != nil || !tid.IsToken() {
				return fmt.Errorf("bad token name %q of %s", name, id)
			}
			u.tokens[name] = &tokenRecord{privsep: t.Privsep, expire: t.Expire, comment: t.Comment}
			if err := s.policy.SetToken(tid, t.Privsep); err != nil {
				return err
			}
		}
		s.users[id] = u
	}
	for _, sg := range st.Groups {
		var members []auth.Userid
		for _, m := range sg.Members {
			if u, err := auth.ParseUserid(m); err == nil && s.users[u] != nil {
				members = append(members, u)
			}
		}
		if err := s.policy.SetGroupMembers(sg.ID, members); err != nil {
			return err
		}
		s.groups[sg.ID] = &groupRecord{comment: sg.Comment}
	}
	for name, privs := range st.Roles {
		if err := s.policy.SetRole(name, slices.Clone(privs)); err != nil {
			return err
		}
	}
	for _, a := range st.ACL {
		e, ok := a.Entry()
		if !ok {
			return fmt.Errorf("ACL entry of unknown type %q", a.Type)
		}
		if err := s.policy.Grant(e); err != nil {
			return err
		}
	}
	if len(st.Secrets) > 0 {
		if err := s.secrets.UnmarshalJSON(st.Secrets); err != nil {
			return err
		}
	}
	if len(st.Passwords) > 0 {
		if err := s.passwords.UnmarshalJSON(st.Passwords); err != nil {
			return err
		}
	}
	return nil
}
