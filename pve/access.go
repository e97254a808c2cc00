package pve

import (
	"fmt"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/httpapi"
)

// AccessService holds the calls under /access: users, groups, API tokens,
// ACLs, roles and effective permissions.
//
// Privileges named in the method docs are those the server checks;
// root@pam (the user, not its tokens) passes every check.
type AccessService struct {
	c *Client
}

func userPath(id auth.Userid) string {
	return httpapi.JoinPath("access", "users", id.String())
}

// tokenPath addresses a token as PVE does: by its owner and its name (the
// "tokenid" of PVE's API is the name alone, never the full id).
func tokenPath(id auth.Authid) (string, error) {
	if !id.IsToken() {
		return "", fmt.Errorf("pve: %q is not an API token id (user@realm!name): %w", id, ErrInvalidRequest)
	}
	return httpapi.JoinPath("access", "users", id.User().String(), "token", string(id.TokenName())), nil
}

// namedPath is /access/{collection}/{id} for the objects named by a plain
// id (groups, roles); kind names them in the error for an empty id.
func namedPath(collection, kind, id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("pve: empty %s id: %w", kind, ErrInvalidRequest)
	}
	return httpapi.JoinPath("access", collection, id), nil
}

func checkUser(id auth.Userid) error {
	if id.IsZero() {
		return fmt.Errorf("pve: empty user id: %w", ErrInvalidRequest)
	}
	return nil
}
