package pve

import (
	"context"
	"net/http"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
)

// PermissionsOptions select whose permissions GET /access/permissions
// reports and where.
type PermissionsOptions struct {
	// AuthID is the user or full token id to report on; the zero value
	// means the caller.
	AuthID auth.Authid `api:"userid,omitempty"`
	// Path limits the answer to this one path, as given (not normalized);
	// "" reports every path the server lists.
	Path string `api:"path,omitempty"`
}

// Permissions returns effective privileges: ACL path -> privileges with
// their propagate flag (whether they are inherited below the path). Paths
// where the subject holds nothing are left out, except the one asked for
// with opts.Path, whose set may be empty. The sets compare directly with
// acl.Policy.Privileges of an offline policy. opts may be nil.
//
// PVE: GET /access/permissions (anyone about itself and a user about its
// own tokens; about others needs Sys.Audit on /access)
func (s *AccessService) Permissions(ctx context.Context, opts *PermissionsOptions) (map[string]acl.PrivSet, error) {
	var raw map[string]map[string]flag
	if err := s.c.call(ctx, http.MethodGet, "/access/permissions", opts, &raw); err != nil {
		return nil, err
	}
	return decodePermissions(raw), nil
}

func decodePermissions(raw map[string]map[string]flag) map[string]acl.PrivSet {
	out := make(map[string]acl.PrivSet, len(raw))
	for path, privs := range raw {
		set := acl.PrivSet{}
		for name, prop := range privs {
			set[name] = bool(prop)
		}
		out[path] = set
	}
	return out
}
