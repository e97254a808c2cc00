package mockcore

import "github.com/proxkit/proxkit/auth/acl"

// StateACL is an ACL entry as both mocks' state files keep it.
type StateACL struct {
	Path      string `json:"path"`
	Type      string `json:"type"` // user, group, token
	Subject   string `json:"ugid"`
	Role      string `json:"roleid"`
	Propagate bool   `json:"propagate"`
}

// StateACLs converts a policy's entries for a state file; nil for none.
func StateACLs(entries []acl.Entry) []StateACL {
	var out []StateACL
	for _, e := range entries {
		out = append(out, StateACL{Path: e.Path, Type: e.Type.String(), Subject: e.Subject, Role: e.Role, Propagate: e.Propagate})
	}
	return out
}

// Entry converts a state file's entry back; ok is false for an unknown
// subject type, which each mock reports in its own words.
func (a StateACL) Entry() (e acl.Entry, ok bool) {
	typ, ok := acl.ParseSubjectType(a.Type)
	return acl.Entry{Path: a.Path, Type: typ, Subject: a.Subject, Role: a.Role, Propagate: a.Propagate}, ok
}
