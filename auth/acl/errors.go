package acl

import (
	"errors"
	"fmt"

	"github.com/proxkit/proxkit/auth"
)

// Sentinels matched with errors.Is by the typed errors of this package.
var (
	// ErrInvalidPath: an ACL path that does not normalize, or (when adding)
	// does not name an object the product knows. Matched by *PathError.
	ErrInvalidPath = errors.New("invalid ACL path")
	// ErrUnknownRole: a role that does not exist.
	ErrUnknownRole = errors.New("unknown role")
	// ErrBuiltinRole: a built-in role cannot be created, modified or deleted.
	ErrBuiltinRole = errors.New("built-in role")
	// ErrInvalidRoleID: a custom role id with bad characters or the reserved
	// "PVE" prefix.
	ErrInvalidRoleID = errors.New("invalid role id")
	// ErrUnknownPrivilege: a privilege name the product does not have.
	ErrUnknownPrivilege = errors.New("unknown privilege")
	// ErrUnknownGroup: a PVE group that does not exist.
	ErrUnknownGroup = errors.New("unknown group")
	// ErrUnknownUser: a user that does not exist.
	ErrUnknownUser = errors.New("unknown user")
	// ErrUnknownToken: an API token that does not exist.
	ErrUnknownToken = errors.New("unknown API token")
	// ErrInvalidSubject: an ACL subject whose id does not fit its type.
	ErrInvalidSubject = errors.New("invalid ACL subject")
	// ErrUnsupported: a feature the product does not have (custom roles,
	// groups and pools on PBS).
	ErrUnsupported = errors.New("not supported by this product")
	// ErrInvalidPoolMember: a bad PVE pool name, VM id or storage id, or a VM
	// that is already in another pool.
	ErrInvalidPoolMember = errors.New("invalid pool or pool member")
	// ErrPermission: the caller lacks the privileges for a change.
	ErrPermission = errors.New("permission denied")
)

// PathError reports an ACL path that is not valid for a product, naming the
// path and what is wrong with it.
type PathError struct {
	Product auth.Product
	Path    string // as given (truncated when very long)
	Reason  string
}

// Error names the product, the path and the problem.
func (e *PathError) Error() string {
	return fmt.Sprintf("%s: invalid ACL path %q: %s", e.Product, e.Path, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidPath) true.
func (e *PathError) Is(target error) bool { return target == ErrInvalidPath }

func pathErr(p auth.Product, path, reason string) *PathError {
	if len(path) > 200 {
		path = path[:200] + "…"
	}
	return &PathError{Product: p, Path: path, Reason: reason}
}

// ConfigError reports a refused change to roles, groups, tokens, pools or
// ACL entries. Err is one of the sentinels above; Name is the offending
// role, privilege, group, user, token or pool; Message is the server's own
// wording where the servers have one.
type ConfigError struct {
	Err     error
	Name    string
	Message string
}

// Error returns Message.
func (e *ConfigError) Error() string { return e.Message }

// Unwrap returns the sentinel.
func (e *ConfigError) Unwrap() error { return e.Err }

func configErr(sentinel error, name, format string, args ...any) *ConfigError {
	return &ConfigError{Err: sentinel, Name: name, Message: fmt.Sprintf(format, args...)}
}
