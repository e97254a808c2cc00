package pbs

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
)

// Role is one of PBS's built-in roles. PBS has no custom roles.
type Role struct {
	// ID is the role name ("DatastoreBackup").
	ID string `json:"roleid"`
	// Privileges are the privilege names the role grants, in PBS's order.
	// Names are the only stable form: the bit values changed in PBS 3.3.
	Privileges []string `json:"privs"`
	// Comment describes the role.
	Comment string `json:"comment"`
}

// ListRoles returns the roles, sorted by name.
//
// PBS: GET /access/roles (any authenticated caller)
func (s *AccessService) ListRoles(ctx context.Context) ([]Role, error) {
	var out []Role
	if _, err := s.c.call(ctx, http.MethodGet, "/access/roles", nil, &out); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Role) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Permissions maps ACL paths to the privileges held there, each with its
// propagate flag (whether it is inherited below the path).
type Permissions map[string]acl.PrivSet

// PermissionsOptions choose whose permissions GetPermissions returns and
// where.
type PermissionsOptions struct {
	// AuthID is the user or token to ask about; zero means the caller.
	// Asking about others needs Sys.Audit on /access, except for a user
	// asking about its own tokens.
	AuthID auth.Authid `api:"auth-id,omitempty"`
	// Path limits the answer to one ACL path; "" means PBS's default
	// paths (/, /access, /datastore, /remote, /system) and every path
	// that has ACL entries.
	Path string `api:"path,omitempty"`
}

// GetPermissions returns effective privileges as the server computes
// them. Paths where the subject holds nothing are left out. opts may be
// nil.
//
// PBS: GET /access/permissions (any authenticated caller for itself and
// its own tokens; Sys.Audit on /access for anyone else)
func (s *AccessService) GetPermissions(ctx context.Context, opts *PermissionsOptions) (Permissions, error) {
	out := Permissions{}
	if _, err := s.c.call(ctx, http.MethodGet, "/access/permissions", opts, &out); err != nil {
		return nil, err
	}
	return out, nil
}
