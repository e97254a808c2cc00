package pbs

import (
	"context"
	"fmt"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/httpapi"
)

// AccessService holds the calls under /access: users, API tokens, ACLs,
// roles and effective permissions.
//
// PBS guards its configuration with optimistic concurrency: reads return
// the Digest of the file they came from (user.cfg for users and tokens,
// acl.cfg for ACLs), and writes accept it back, failing with ErrConflict
// when someone changed the file in between. The zero Digest skips the
// check.
type AccessService struct {
	c *Client
}

// Digest is the SHA-256 (64 lowercase hex digits) of a PBS configuration
// file, as reads return it. Passing it to a write makes the write fail
// with ErrConflict if the configuration changed since the read.
type Digest string

// call sends one request and decodes "data" into out; it returns the
// configuration digest the server sent next to the data.
func (c *Client) call(ctx context.Context, method, path string, params, out any) (Digest, error) {
	resp, err := c.api.Do(ctx, httpapi.Request{Method: method, Path: path, Params: params, Out: out})
	if err != nil {
		return "", wrapError(err)
	}
	return Digest(resp.Digest), nil
}

func checkUser(id auth.Userid) error {
	if id.IsZero() {
		return fmt.Errorf("pbs: empty user id: %w", ErrInvalidRequest)
	}
	return nil
}

func checkToken(id auth.Authid) error {
	if !id.IsToken() {
		return fmt.Errorf("pbs: %q is not an API token id (user@realm!name): %w", id.String(), ErrInvalidRequest)
	}
	return nil
}

func userPath(u auth.Userid) string { return httpapi.JoinPath("access", "users", u.String()) }

// tokenPath addresses a token: PBS's path segment is the token name, the
// full id being user (in the path) plus name.
func tokenPath(id auth.Authid) string {
	return httpapi.JoinPath("access", "users", id.User().String(), "token", string(id.TokenName()))
}

// epochTime converts PBS's optional epoch seconds; absent, 0 and negative
// values mean "never" (the zero time).
func epochTime(v *int64) time.Time {
	if v == nil || *v <= 0 {
		return time.Time{}
	}
	return time.Unix(*v, 0)
}

// enabled converts PBS's optional "enable": absent means enabled.
func enabled(v *bool) bool { return v == nil || *v }
