package pve

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/proxkit/proxkit/auth"
)

// Group is a PVE user group. ACL entries for a group apply to each member
// (unless the member has own entries at the same path).
type Group struct {
	ID      string // group id: letters, digits, '.', '-', '_'
	Comment string // free text, "" when unset
	// Members are the group's users, sorted.
	Members []auth.Userid
}

type wireGroup struct {
	GroupID string `json:"groupid"`
	Comment string `json:"comment"`
	Users   idList `json:"users"`   // list: comma-joined
	Members idList `json:"members"` // get: array
}

func (w wireGroup) group(id string) (Group, error) {
	g := Group{ID: id, Comment: w.Comment, Members: []auth.Userid{}}
	for _, s := range append(slices.Clone(w.Users), w.Members...) {
		u, err := auth.ParseUserid(s)
		if err != nil {
			return Group{}, fmt.Errorf("pve: group %s: member: %w", id, err)
		}
		g.Members = append(g.Members, u)
	}
	slices.SortFunc(g.Members, func(a, b auth.Userid) int { return strings.Compare(a.String(), b.String()) })
	g.Members = slices.Compact(g.Members)
	return g, nil
}

func decodeGroups(rows []wireGroup) ([]Group, error) {
	out := make([]Group, 0, len(rows))
	for _, w := range rows {
		if w.GroupID == "" {
			return nil, fmt.Errorf("pve: group list: row without groupid: %w", ErrMalformedResponse)
		}
		g, err := w.group(w.GroupID)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b Group) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func groupPath(id string) (string, error) { return namedPath("groups", "group", id) }

// ListGroups returns the groups where the caller has User.Modify,
// Sys.Audit or Group.Allocate on /access/groups/{groupid}, sorted by id.
//
// PVE: GET /access/groups (any authenticated caller; the list is filtered)
func (s *AccessService) ListGroups(ctx context.Context) ([]Group, error) {
	var rows []wireGroup
	if err := s.c.call(ctx, http.MethodGet, "/access/groups", nil, &rows); err != nil {
		return nil, err
	}
	return decodeGroups(rows)
}

// GetGroup returns group id with its members.
//
// PVE: GET /access/groups/{groupid} (needs Sys.Audit or Group.Allocate on
// /access/groups)
func (s *AccessService) GetGroup(ctx context.Context, id string) (*Group, error) {
	path, err := groupPath(id)
	if err != nil {
		return nil, err
	}
	var w wireGroup
	if err := s.c.call(ctx, http.MethodGet, path, nil, &w); err != nil {
		return nil, err
	}
	g, err := w.group(id)
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// CreateGroup creates group id. Add members with UpdateUser (Groups,
// Append) or CreateUser.
//
// PVE: POST /access/groups (needs Group.Allocate on /access/groups)
func (s *AccessService) CreateGroup(ctx context.Context, id, comment string) error {
	if id == "" {
		return fmt.Errorf("pve: empty group id: %w", ErrInvalidRequest)
	}
	params := struct {
		GroupID string `api:"groupid"`
		Comment string `api:"comment,omitempty"`
	}{id, comment}
	return s.c.call(ctx, http.MethodPost, "/access/groups", params, nil)
}

// UpdateGroup sets the comment of group id.
//
// PVE: PUT /access/groups/{groupid} (needs Group.Allocate on
// /access/groups)
func (s *AccessService) UpdateGroup(ctx context.Context, id, comment string) error {
	path, err := groupPath(id)
	if err != nil {
		return err
	}
	params := struct {
		Comment string `api:"comment"`
	}{comment}
	return s.c.call(ctx, http.MethodPut, path, params, nil)
}

// DeleteGroup deletes group id and the ACL entries naming it; its members
// keep their accounts.
//
// PVE: DELETE /access/groups/{groupid} (needs Group.Allocate on
// /access/groups)
func (s *AccessService) DeleteGroup(ctx context.Context, id string) error {
	path, err := groupPath(id)
	if err != nil {
		return err
	}
	return s.c.call(ctx, http.MethodDelete, path, nil, nil)
}
