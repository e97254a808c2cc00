package pve

import (
	"context"
	"fmt"
	"net/http"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
)

// ACLChange names ACL entries to add (Grant) or remove (Revoke): every
// role in Roles for every subject in Users, Groups and Tokens (at least
// one subject) on Path.
type ACLChange struct {
	// Path is the ACL path ("/", "/vms/100", "/storage/local" …); the
	// server normalizes it.
	Path string `api:"path"`
	// Roles are role ids, built-in or custom.
	Roles  []string      `api:"roles"`
	Users  []auth.Userid `api:"users,omitempty"`  // user ids
	Groups []string      `api:"groups,omitempty"` // group ids
	Tokens []auth.Authid `api:"tokens,omitempty"` // full token ids
	// Propagate, when set, chooses whether the entries are inherited by
	// the paths below Path; nil keeps the server's default (inherited).
	// Revoke ignores it.
	Propagate *bool `api:"propagate"`
}

// wireACL is one row of GET /access/acl.
type wireACL struct {
	Path      string  `json:"path"`
	Type      string  `json:"type"`
	UGID      string  `json:"ugid"`
	RoleID    string  `json:"roleid"`
	Propagate optFlag `json:"propagate"`
}

func (w wireACL) entry() (acl.Entry, error) {
	typ, ok := acl.ParseSubjectType(w.Type)
	if !ok {
		return acl.Entry{}, fmt.Errorf("pve: ACL row of unknown type %.20q: %w", w.Type, ErrMalformedResponse)
	}
	e := acl.Entry{Path: w.Path, Type: typ, Subject: w.UGID, Role: w.RoleID, Propagate: w.Propagate.or(true)}
	if e.Path == "" || e.Subject == "" || e.Role == "" {
		return acl.Entry{}, fmt.Errorf("pve: ACL row without path, ugid or roleid: %w", ErrMalformedResponse)
	}
	return e, nil
}

func decodeACL(rows []wireACL) ([]acl.Entry, error) {
	out := make([]acl.Entry, 0, len(rows))
	for _, w := range rows {
		e, err := w.entry()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// ListACL returns the ACL entries the caller may see, in the server's
// order (paths in tree order, then users, groups and tokens): all of them
// with Sys.Audit on /access, otherwise those on paths where the caller
// may change permissions. The entries feed straight into an offline
// acl.Policy.
//
// PVE: GET /access/acl (any authenticated caller; the list is filtered)
func (s *AccessService) ListACL(ctx context.Context) ([]acl.Entry, error) {
	var rows []wireACL
	if err := s.c.call(ctx, http.MethodGet, "/access/acl", nil, &rows); err != nil {
		return nil, err
	}
	return decodeACL(rows)
}

// Grant adds the entries of ch; granting an existing (path, subject,
// role) again only changes its propagate flag. Entries for root@pam are
// accepted and not stored (root@pam holds everything anyway).
//
// PVE: PUT /access/acl (needs Permissions.Modify on the path, or
// VM.Allocate on /vms/{id}, Datastore.Allocate on /storage/{id},
// Pool.Allocate on /pool/{id}; without Permissions.Modify only roles whose
// privileges the caller holds there, propagated when Propagate is set)
func (s *AccessService) Grant(ctx context.Context, ch ACLChange) error {
	return s.updateACL(ctx, ch, false)
}

// Revoke removes the entries of ch; removing entries that do not exist is
// not an error.
//
// PVE: PUT /access/acl delete=1 (needs Permissions.Modify on the path, or
// the privileges Grant names)
func (s *AccessService) Revoke(ctx context.Context, ch ACLChange) error {
	ch.Propagate = nil
	return s.updateACL(ctx, ch, true)
}

func (s *AccessService) updateACL(ctx context.Context, ch ACLChange, del bool) error {
	if len(ch.Roles) == 0 {
		return fmt.Errorf("pve: ACL change without roles: %w", ErrInvalidRequest)
	}
	if len(ch.Users)+len(ch.Groups)+len(ch.Tokens) == 0 {
		return fmt.Errorf("pve: ACL change without users, groups or tokens: %w", ErrInvalidRequest)
	}
	for _, t := range ch.Tokens {
		if !t.IsToken() {
			return fmt.Errorf("pve: ACL change: %q in Tokens is not an API token id (put users in Users): %w", t, ErrInvalidRequest)
		}
	}
	params := struct {
		ACLChange
		Delete bool `api:"delete,omitempty"`
	}{ch, del}
	return s.c.call(ctx, http.MethodPut, "/access/acl", params, nil)
}
