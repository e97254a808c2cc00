package pbs

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
)

// ACLEntry is one row of PBS's access control list: on Path, the subject
// holds Role, inherited below Path when Propagate is set.
type ACLEntry struct {
	// Path is the ACL path ("/", "/datastore/store1/ns1").
	Path string
	// AuthID is the user or API token the entry is for; zero for group
	// entries. PBS lists both kinds with ugid_type "user".
	AuthID auth.Authid
	// Group is the group of a group entry, "" otherwise. PBS stores group
	// entries found in its configuration but never applies them.
	Group string
	// Role is the role name.
	Role string
	// Propagate says whether the entry is inherited by paths below Path.
	Propagate bool
}

// Entry converts the row for package acl, to evaluate permissions offline
// with the same rules as the server (acl.Policy.Grant).
func (e ACLEntry) Entry() acl.Entry {
	if e.Group != "" {
		return acl.Entry{Path: e.Path, Type: acl.Group, Subject: e.Group, Role: e.Role, Propagate: e.Propagate}
	}
	return acl.EntryFor(e.Path, e.AuthID, e.Role, e.Propagate)
}

// UnmarshalJSON decodes PBS's AclListItem {path, ugid, ugid_type,
// propagate, roleid}.
func (e *ACLEntry) UnmarshalJSON(b []byte) error {
	var w struct {
		Path      string `json:"path"`
		Ugid      string `json:"ugid"`
		UgidType  string `json:"ugid_type"`
		Propagate bool   `json:"propagate"`
		Roleid    string `json:"roleid"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.Path == "" || w.Roleid == "" || w.Ugid == "" {
		return fmt.Errorf("pbs: ACL entry without path, role or subject")
	}
	*e = ACLEntry{Path: w.Path, Role: w.Roleid, Propagate: w.Propagate}
	switch w.UgidType {
	case "group":
		e.Group = w.Ugid
	case "user":
		id, err := auth.ParseAuthid(w.Ugid)
		if err != nil {
			return fmt.Errorf("pbs: ACL entry with bad ugid: %w", err)
		}
		e.AuthID = id
	default:
		return fmt.Errorf("pbs: ACL entry with ugid_type %q", w.UgidType)
	}
	return nil
}

// ListACLOptions narrow ListACL.
type ListACLOptions struct {
	// Path limits the list to entries on Path and below it ("" = all).
	Path string `api:"path,omitempty"`
	// Exact limits the list to entries on Path itself.
	Exact bool `api:"exact,omitempty"`
}

// ListACL returns the ACL entries the caller may see: all of them with
// Sys.Audit on /access/acl, otherwise only those of the caller's own API
// tokens (and none for a token). opts may be nil.
//
// PBS: GET /access/acl (any authenticated caller; the list depends on
// Sys.Audit on /access/acl)
func (s *AccessService) ListACL(ctx context.Context, opts *ListACLOptions) ([]ACLEntry, Digest, error) {
	var out []ACLEntry
	d, err := s.c.call(ctx, http.MethodGet, "/access/acl", opts, &out)
	if err != nil {
		return nil, "", err
	}
	return out, d, nil
}

// ACLUpdate is one change of PUT /access/acl: Role for AuthID on Path.
// PBS takes one role and one subject per call.
type ACLUpdate struct {
	// Path is the ACL path; PBS does not normalize it ("/datastore/store1",
	// never "datastore/store1/").
	Path string `api:"path"`
	// Role is a built-in role name (acl.BuiltinRoles(auth.PBS)).
	Role string `api:"role"`
	// AuthID is the user or API token.
	AuthID auth.Authid `api:"auth-id"`
	// Propagate, when set, chooses inheritance below Path; nil keeps the
	// server's default (propagate).
	Propagate *bool `api:"propagate"`
	// Digest, when set, makes the call fail with ErrConflict if the ACL
	// changed since it was read.
	Digest Digest `api:"digest,omitempty"`
}

type aclParams struct {
	ACLUpdate
	Delete bool `api:"delete,omitempty"`
}

func checkACLUpdate(u ACLUpdate) error {
	if u.AuthID.IsZero() {
		return fmt.Errorf("pbs: ACL update without auth id: %w", ErrInvalidRequest)
	}
	if u.Path == "" || u.Role == "" {
		return fmt.Errorf("pbs: ACL update without path or role: %w", ErrInvalidRequest)
	}
	return nil
}

// GrantACL adds (or, for an existing entry, re-flags) an ACL entry.
// NoAccess replaces every other role of the subject on the path, and any
// other role removes a NoAccess there. Entries for root@pam are accepted
// and not stored (root@pam holds everything anyway).
//
// PBS: PUT /access/acl (needs Permissions.Modify on /access/acl; without
// it, a user may change entries of its own API tokens only)
func (s *AccessService) GrantACL(ctx context.Context, u ACLUpdate) error {
	if err := checkACLUpdate(u); err != nil {
		return err
	}
	_, err := s.c.call(ctx, http.MethodPut, "/access/acl", aclParams{ACLUpdate: u}, nil)
	return err
}

// RevokeACL removes an ACL entry (Propagate is ignored); removing one that
// does not exist is not an error.
//
// PBS: PUT /access/acl delete=1 (needs Permissions.Modify on /access/acl;
// without it, a user may change entries of its own API tokens only)
func (s *AccessService) RevokeACL(ctx context.Context, u ACLUpdate) error {
	if err := checkACLUpdate(u); err != nil {
		return err
	}
	u.Propagate = nil
	_, err := s.c.call(ctx, http.MethodPut, "/access/acl", aclParams{ACLUpdate: u, Delete: true}, nil)
	return err
}
