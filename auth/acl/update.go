package acl

import (
	"fmt"
	"slices"
	"strings"

	"github.com/proxkit/proxkit/auth"
)

// UpdateErrorKind classifies a refused ACL API call by how the servers
// report it.
type UpdateErrorKind int

const (
	// UpdateInvalid is a parameter error: PVE answers 400 with the message
	// under each of Params in "errors"; PBS answers 400 with the text.
	UpdateInvalid UpdateErrorKind = iota + 1
	// UpdateForbidden is a failed permission check: PVE answers 403
	// "Permission check failed (<Message>)"; PBS answers 400 with the text.
	UpdateForbidden
	// UpdateFailed is raised while the configuration is locked: PVE answers
	// 500 "ACL update failed: <Message>"; PBS answers 400 with the text.
	UpdateFailed
)

// UpdateError is a refused ACL API call (PUT /access/acl, GET
// /access/permissions for another subject). Message is the server's own
// text; Err a sentinel for errors.Is (ErrPermission, ErrInvalidPath,
// ErrUnknownRole, ErrUnknownUser, ErrUnknownToken, ErrUnknownGroup,
// ErrInvalidSubject, ErrUnsupported).
type UpdateError struct {
	Kind    UpdateErrorKind
	Params  []string // parameters a PVE UpdateInvalid belongs to
	Message string
	Err     error
}

// Error returns the server's message text.
func (e *UpdateError) Error() string { return e.Message }

// Unwrap returns the sentinel.
func (e *UpdateError) Unwrap() error { return e.Err }

func updateErr(kind UpdateErrorKind, sentinel error, format string, args ...any) *UpdateError {
	return &UpdateError{Kind: kind, Err: sentinel, Message: fmt.Sprintf(format, args...)}
}

func paramErr(sentinel error, params []string, format string, args ...any) *UpdateError {
	e := updateErr(UpdateInvalid, sentinel, format, args...)
	e.Params = params
	return e
}

// permModifyPrivs lists the privileges any one of which passes PVE's
// "perm-modify" test on a normalized path.
func permModifyPrivs(path string) []string {
	privs := []string{PrivPermissionsModify}
	switch {
	case strings.HasPrefix(path, "/storage/") && len(path) > len("/storage/"):
		privs = append(privs, PrivDatastoreAllocate)
	case strings.HasPrefix(path, "/vms/") && len(path) > len("/vms/"):
		privs = append(privs, PrivVMAllocate)
	case strings.HasPrefix(path, "/pool/") && len(path) > len("/pool/"):
		privs = append(privs, PrivPoolAllocate)
	}
	return privs
}

// CanModifyACLAt is PVE's "perm-modify" test: caller holds
// Permissions.Modify on path, or VM.Allocate below /vms/, Datastore.Allocate
// below /storage/, Pool.Allocate below /pool/. PVE uses it to gate PUT
// /access/acl and to decide which paths' rows GET /access/acl shows.
func (p *Policy) CanModifyACLAt(caller auth.Authid, path string) bool {
	return caller.IsRoot() || p.CheckAny(caller, path, permModifyPrivs(path)...)
}

// CheckPVEACLModify applies PVE's delegation rules for adding (or, with
// del, removing) roles on a normalized path: the perm-modify test, then for
// each role in order that it exists and, for a caller without
// Permissions.Modify on the path, that the caller holds every privilege of
// the role there, propagated when adding with propagate, and that the role
// is not NoAccess. It returns nil or an *UpdateError.
func (p *Policy) CheckPVEACLModify(caller auth.Authid, path string, roles []string, propagate, del bool) error {
	if !p.CanModifyACLAt(caller, path) {
		return permModifyErr(path)
	}
	held := p.Privileges(caller, path)
	for _, r := range roles {
		if err := p.checkDelegation(held, r, propagate, del); err != nil {
			return err
		}
	}
	return nil
}

func permModifyErr(path string) *UpdateError {
	return updateErr(UpdateForbidden, ErrPermission, "%s, %s", path, strings.Join(permModifyPrivs(path), "|"))
}

// checkDelegation is the per-role part of CheckPVEACLModify.
func (p *Policy) checkDelegation(held PrivSet, role string, propagate, del bool) error {
	privs, ok := p.rolePrivs(role)
	if !ok {
		return updateErr(UpdateFailed, ErrUnknownRole, "role '%s' does not exist", role)
	}
	if held.Has(PrivPermissionsModify) {
		return nil
	}
	verb := "add"
	if del {
		verb = "remove"
	}
	for _, priv := range privs {
		flag, ok := held[priv]
		if !ok {
			return roleParamErr("Cannot %s role '%s' - requires 'Permissions.Modify' or superset of privileges.", verb, role)
		}
		if propagate && !flag && !del {
			return roleParamErr("Cannot %s role '%s' with propagation - requires 'Permissions.Modify' or propagated superset of privileges.", verb, role)
		}
	}
	if role == RoleNoAccess {
		return roleParamErr("Cannot %s role '%s' - requires 'Permissions.Modify'", verb, role)
	}
	return nil
}

// roleParamErr: PVE raises these as parameter errors on "role" inside its
// config lock, so they reach the client as failures of the update.
func roleParamErr(format string, args ...any) *UpdateError {
	e := updateErr(UpdateFailed, ErrPermission, format, args...)
	e.Params = []string{"role"}
	return e
}

// PVEACLUpdate is a PVE PUT /access/acl request. Propagate defaults to true
// on the server; callers decoding a request must apply that default.
type PVEACLUpdate struct {
	Path      string
	Roles     []string
	Users     []string // user ids
	Groups    []string // group ids
	Tokens    []string // full token ids
	Propagate bool
	Delete    bool
}

// UpdatePVEACL performs a PVE PUT /access/acl for caller with the server's
// checks in the server's order, and changes nothing unless all pass:
// parameter formats, the perm-modify test (skipped for root@pam), at least
// one subject, path normalization and (when adding) ValidatePath, then per
// role its existence and the delegation rule, and the existence of every
// group, user (userExists) and token. Returns nil or an *UpdateError.
func (p *Policy) UpdatePVEACL(caller auth.Authid, req PVEACLUpdate, userExists func(auth.Userid) bool) error {
	users, tokens, err := p.parsePVESubjects(req)
	if err != nil {
		return err
	}
	path, pathErr := normalizePVE(req.Path)
	if pathErr == nil && !p.CanModifyACLAt(caller, path) {
		return permModifyErr(path)
	}
	if len(users)+len(req.Groups)+len(tokens) == 0 {
		return paramErr(ErrInvalidSubject, []string{"users", "groups", "tokens"}, "either 'users', 'groups' or 'tokens' is required.")
	}
	if pathErr != nil || !req.Delete && ValidatePath(auth.PVE, path) != nil {
		return paramErr(ErrInvalidPath, []string{"path"}, "invalid ACL path '%s'", req.Path)
	}
	held := p.Privileges(caller, path)
	for _, r := range req.Roles {
		if err := p.checkDelegation(held, r, req.Propagate, req.Delete); err != nil {
			return err
		}
		if err := p.checkPVESubjectsExist(req.Groups, users, tokens, userExists); err != nil {
			return err
		}
	}
	for _, r := range req.Roles {
		for _, e := range pveEntries(path, r, req.Propagate, users, req.Groups, tokens) {
			if req.Delete {
				err = p.Revoke(e)
			} else {
				err = p.Grant(e)
			}
			if err != nil {
				return updateErr(UpdateFailed, err, "%s", err.Error())
			}
		}
	}
	return nil
}

func (p *Policy) parsePVESubjects(req PVEACLUpdate) ([]auth.Userid, []auth.Authid, error) {
	for _, r := range req.Roles {
		if r == "" || !allBytes(r, isPVEPathChar) {
			return nil, nil, paramErr(ErrUnknownRole, []string{"roles"}, "value '%s' does not look like a valid role ID", r)
		}
	}
	if len(req.Roles) == 0 {
		return nil, nil, paramErr(ErrUnknownRole, []string{"roles"}, "property is missing and it is not optional")
	}
	users := make([]auth.Userid, 0, len(req.Users))
	for _, s := range req.Users {
		u, err := auth.ParseUserid(s)
		if err != nil {
			return nil, nil, paramErr(ErrInvalidSubject, []string{"users"}, "value '%s' does not look like a valid user ID", s)
		}
		users = append(users, u)
	}
	for _, g := range req.Groups {
		if err := p.checkGroupID(g); err != nil {
			return nil, nil, paramErr(ErrInvalidSubject, []string{"groups"}, "%s", err.Error())
		}
	}
	tokens := make([]auth.Authid, 0, len(req.Tokens))
	for _, s := range req.Tokens {
		t, err := auth.ParseAuthid(s)
		if err != nil || !t.IsToken() {
			return nil, nil, paramErr(ErrInvalidSubject, []string{"tokens"}, "value '%s' does not look like a valid token ID", s)
		}
		tokens = append(tokens, t)
	}
	return users, tokens, nil
}

func (p *Policy) checkPVESubjectsExist(groups []string, users []auth.Userid, tokens []auth.Authid, userExists func(auth.Userid) bool) error {
	exists := func(u auth.Userid) bool { return u.IsRoot() || userExists != nil && userExists(u) }
	for _, g := range groups {
		if !p.HasGroup(g) {
			return updateErr(UpdateFailed, ErrUnknownGroup, "group '%s' does not exist", g)
		}
	}
	for _, u := range users {
		if !exists(u) {
			return updateErr(UpdateFailed, ErrUnknownUser, "user '%s' does not exist", u)
		}
	}
	for _, t := range tokens {
		if !exists(t.User()) {
			return updateErr(UpdateFailed, ErrUnknownUser, "no such user ('%s')", t.User())
		}
		if _, ok := p.tokens[t.String()]; !ok {
			return updateErr(UpdateFailed, ErrUnknownToken, "no such token '%s' for user '%s'", t.TokenName(), t.User())
		}
	}
	return nil
}

func pveEntries(path, role string, propagate bool, users []auth.Userid, groups []string, tokens []auth.Authid) []Entry {
	out := make([]Entry, 0, len(users)+len(groups)+len(tokens))
	for _, g := range groups {
		out = append(out, Entry{Path: path, Type: Group, Subject: g, Role: role, Propagate: propagate})
	}
	for _, u := range users {
		out = append(out, Entry{Path: path, Type: User, Subject: u.String(), Role: role, Propagate: propagate})
	}
	for _, t := range tokens {
		out = append(out, Entry{Path: path, Type: Token, Subject: t.String(), Role: role, Propagate: propagate})
	}
	return out
}

// PBSACLUpdate is a PBS PUT /access/acl request. AuthID is the zero value
// and Group "" when the parameter is absent. Propagate defaults to true on
// the server; callers decoding a request must apply that default.
type PBSACLUpdate struct {
	Path      string
	Role      string
	AuthID    auth.Authid
	Group     string
	Propagate bool
	Delete    bool
}

// AuthorizePBSACLUpdate applies PBS's privilege rule for PUT /access/acl:
// Permissions.Modify on /access/acl allows anything; otherwise a user may
// only change entries of its own API tokens and a token nothing. A mock
// checking a "digest" does so after this and before UpdatePBSACL, as PBS
// does.
func (p *Policy) AuthorizePBSACLUpdate(caller auth.Authid, req PBSACLUpdate) error {
	if p.Privileges(caller, "/access/acl").Has(PrivPermissionsModify) {
		return nil
	}
	deny := func(msg string) error { return updateErr(UpdateForbidden, ErrPermission, "%s", msg) }
	switch {
	case req.Group != "":
		return deny("Unprivileged users are not allowed to create group ACL item.")
	case req.AuthID.IsZero():
		return deny("Unprivileged user needs to provide auth_id to update ACL item.")
	case caller.IsToken():
		return deny("Unprivileged API tokens can't set ACL items.")
	case !req.AuthID.IsToken():
		return deny("Unprivileged users can only set ACL items for API tokens.")
	case req.AuthID.User() != caller.User():
		return deny("Unprivileged users can only set ACL items for their own API tokens.")
	}
	return nil
}

// UpdatePBSACL performs a PBS PUT /access/acl for caller with the server's
// checks in the server's order and changes nothing unless all pass: path
// syntax and role (parameter errors), AuthorizePBSACLUpdate, groups
// refused, a subject present, its existence when adding (exists is asked
// about users and tokens; root@pam always exists), and ValidatePath when
// adding. Deleting entries of unknown subjects or on paths of unknown
// structure is allowed, as on the server. Returns nil or an *UpdateError.
func (p *Policy) UpdatePBSACL(caller auth.Authid, req PBSACLUpdate, exists func(auth.Authid) bool) error {
	if err := checkPBSSyntax(req.Path); err != nil {
		return paramErr(ErrInvalidPath, []string{"path"}, "parameter verification failed - 'path': %s", err.(*PathError).Reason)
	}
	if !IsBuiltinRole(auth.PBS, req.Role) {
		return paramErr(ErrUnknownRole, []string{"role"}, "parameter verification failed - 'role': value '%s' is not defined in the enumeration.", req.Role)
	}
	if err := p.AuthorizePBSACLUpdate(caller, req); err != nil {
		return err
	}
	fail := func(sentinel error, msg string) error { return updateErr(UpdateFailed, sentinel, "%s", msg) }
	switch {
	case req.Group != "":
		return fail(ErrUnsupported, "parameter 'group' - groups are currently not supported.")
	case req.AuthID.IsZero():
		return fail(ErrInvalidSubject, "missing 'userid' or 'group' parameter.")
	case !req.Delete && !req.AuthID.IsRoot() && (exists == nil || !exists(req.AuthID)):
		if req.AuthID.IsToken() {
			return fail(ErrUnknownToken, "no such API token.")
		}
		return fail(ErrUnknownUser, "no such user.")
	case !req.Delete && ValidatePath(auth.PBS, req.Path) != nil:
		return fail(ErrInvalidPath, fmt.Sprintf("invalid acl path '%s'.", req.Path))
	}
	e := EntryFor(req.Path, req.AuthID, req.Role, req.Propagate)
	var err error
	if req.Delete {
		err = p.Revoke(e)
	} else {
		err = p.Grant(e)
	}
	if err != nil {
		return fail(err, err.Error())
	}
	return nil
}

// ListACL returns the rows GET /access/acl shows caller, in Entries order.
//
// PVE (path and exact are ignored; PVE has no such parameters): every row
// for a caller with Sys.Audit on /access, otherwise the rows on paths where
// caller passes CanModifyACLAt.
//
// PBS: rows on path and below it ("" means "/"), or only on path with
// exact; nothing when no entry lies at or below path. Every row for a
// caller with Sys.Audit on /access/acl; otherwise only the rows of the
// caller's own API tokens, and nothing for a token caller.
func (p *Policy) ListACL(caller auth.Authid, path string, exact bool) []Entry {
	if p.product == auth.PVE {
		if p.Privileges(caller, "/access").Has(PrivSysAudit) {
			return p.Entries()
		}
		return p.collect(func(path string) bool { return p.CanModifyACLAt(caller, path) }, func(Entry) bool { return true })
	}
	base := "/"
	if path != "" {
		base = joinPath(splitPath(path))
	}
	if !slices.Contains(p.treePaths(), base) {
		return nil
	}
	pathOK := func(q string) bool { return q == base || !exact && isAtOrBelow(q, base) }
	if p.Privileges(caller, "/access/acl").Has(PrivSysAudit) {
		return p.collect(pathOK, func(Entry) bool { return true })
	}
	if caller.IsToken() {
		return nil
	}
	owner := caller.User().String()
	return p.collect(pathOK, func(e Entry) bool { return e.Type == Token && tokenOwner(e.Subject) == owner })
}

// CanQueryPermissions applies the rule of GET /access/permissions for
// another auth id: anyone may ask about itself, a user about its own
// tokens, and otherwise the caller needs Sys.Audit on /access. The refusal
// is an *UpdateError with PVE's permission text or PBS's message.
func (p *Policy) CanQueryPermissions(caller, target auth.Authid) error {
	if caller == target || target.IsToken() && !caller.IsToken() && target.User() == caller.User() {
		return nil
	}
	if p.Privileges(caller, "/access").Has(PrivSysAudit) {
		return nil
	}
	if p.product == auth.PBS {
		return updateErr(UpdateForbidden, ErrPermission, "not allowed to list permissions of %s", target)
	}
	return updateErr(UpdateForbidden, ErrPermission, "/access, %s", PrivSysAudit)
}
