package pve

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
)

// Role is a named set of privileges.
type Role struct {
	ID string // role id, e.g. "PVEAuditor"
	// Privs are the role's privileges, sorted.
	Privs []string
	// Special marks built-in roles (Administrator, NoAccess, PVE…),
	// which cannot be changed or deleted.
	Special bool
}

// RoleUpdate changes a custom role's privileges.
type RoleUpdate struct {
	// Privs replace the role's privileges, or with Append are added.
	Privs []string `api:"privs"`
	// Append adds Privs instead of replacing.
	Append bool `api:"append,omitempty"`
}

type wireRole struct {
	RoleID  string `json:"roleid"`
	Privs   idList `json:"privs"`
	Special flag   `json:"special"`
}

func decodeRoles(rows []wireRole) ([]Role, error) {
	out := make([]Role, 0, len(rows))
	for _, w := range rows {
		if w.RoleID == "" {
			return nil, fmt.Errorf("pve: role list: row without roleid: %w", ErrMalformedResponse)
		}
		out = append(out, Role{ID: w.RoleID, Privs: sortedOrEmpty(w.Privs), Special: bool(w.Special)})
	}
	slices.SortFunc(out, func(a, b Role) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func sortedOrEmpty(s []string) []string {
	if len(s) == 0 {
		return []string{}
	}
	return slices.Sorted(slices.Values(s))
}

// decodeRole converts GET /access/roles/{roleid}: {"<priv>": 1, …}.
func decodeRole(id string, privs map[string]flag) *Role {
	var names []string
	for _, p := range slices.Sorted(maps.Keys(privs)) {
		if privs[p] {
			names = append(names, p)
		}
	}
	return &Role{ID: id, Privs: sortedOrEmpty(names), Special: acl.IsBuiltinRole(auth.PVE, id)}
}

func rolePath(id string) (string, error) { return namedPath("roles", "role", id) }

// ListRoles returns every role, built-in and custom, sorted by id.
//
// PVE: GET /access/roles (any authenticated caller)
func (s *AccessService) ListRoles(ctx context.Context) ([]Role, error) {
	var rows []wireRole
	if err := s.c.call(ctx, http.MethodGet, "/access/roles", nil, &rows); err != nil {
		return nil, err
	}
	return decodeRoles(rows)
}

// GetRole returns role id with its privileges.
//
// PVE: GET /access/roles/{roleid} (any authenticated caller)
func (s *AccessService) GetRole(ctx context.Context, id string) (*Role, error) {
	path, err := rolePath(id)
	if err != nil {
		return nil, err
	}
	var privs map[string]flag
	if err := s.c.call(ctx, http.MethodGet, path, nil, &privs); err != nil {
		return nil, err
	}
	return decodeRole(id, privs), nil
}

// CreateRole creates custom role id with privs. Role ids may not start
// with "PVE" (any case), which is reserved for built-in roles.
//
// PVE: POST /access/roles (needs Sys.Modify on /access)
func (s *AccessService) CreateRole(ctx context.Context, id string, privs []string) error {
	if id == "" {
		return fmt.Errorf("pve: empty role id: %w", ErrInvalidRequest)
	}
	params := struct {
		RoleID string   `api:"roleid"`
		Privs  []string `api:"privs,omitempty"`
	}{id, privs}
	return s.c.call(ctx, http.MethodPost, "/access/roles", params, nil)
}

// UpdateRole replaces (or with u.Append extends) the privileges of custom
// role id.
//
// PVE: PUT /access/roles/{roleid} (needs Sys.Modify on /access)
func (s *AccessService) UpdateRole(ctx context.Context, id string, u RoleUpdate) error {
	path, err := rolePath(id)
	if err != nil {
		return err
	}
	if u.Append && len(u.Privs) == 0 {
		return fmt.Errorf("pve: UpdateRole: Append needs Privs: %w", ErrInvalidRequest)
	}
	return s.c.call(ctx, http.MethodPut, path, u, nil)
}

// DeleteRole deletes custom role id. ACL entries naming it stop granting
// anything and disappear.
//
// PVE: DELETE /access/roles/{roleid} (needs Sys.Modify on /access)
func (s *AccessService) DeleteRole(ctx context.Context, id string) error {
	path, err := rolePath(id)
	if err != nil {
		return err
	}
	return s.c.call(ctx, http.MethodDelete, path, nil, nil)
}
