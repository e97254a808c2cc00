package pbs

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/proxkit/proxkit/auth"
)

// User is a PBS user account.
type User struct {
	// ID is the user id "name@realm".
	ID auth.Userid
	// Comment is free text ("" when unset).
	Comment string
	// Enabled is false for a disabled account, which cannot log in, and
	// whose API tokens fail.
	Enabled bool
	// Expire is when the account stops working; the zero time means
	// never. PBS treats the account as expired from that second on.
	Expire time.Time
	// Firstname, Lastname and Email are "" when unset.
	Firstname string
	Lastname  string
	Email     string
	// Tokens are the user's API tokens; ListUsers fills them only with
	// IncludeTokens.
	Tokens []Token
	// TOTPLocked: the user is locked out of TOTP second factors.
	TOTPLocked bool
	// TFALockedUntil is when a second-factor lockout ends (zero: none).
	TFALockedUntil time.Time
}

// wireUser is PBS's User / UserWithTokens.
type wireUser struct {
	Userid         string      `json:"userid"`
	Comment        string      `json:"comment"`
	Enable         *bool       `json:"enable"`
	Expire         *int64      `json:"expire"`
	Firstname      string      `json:"firstname"`
	Lastname       string      `json:"lastname"`
	Email          string      `json:"email"`
	Tokens         []wireToken `json:"tokens"`
	TOTPLocked     bool        `json:"totp-locked"`
	TFALockedUntil *int64      `json:"tfa-locked-until"`
}

// UnmarshalJSON decodes a user as PBS sends it; the user id must parse.
func (u *User) UnmarshalJSON(b []byte) error {
	var w wireUser
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	id, err := auth.ParseUserid(w.Userid)
	if err != nil {
		return fmt.Errorf("pbs: user with bad userid: %w", err)
	}
	*u = User{
		ID: id, Comment: w.Comment, Enabled: enabled(w.Enable), Expire: epochTime(w.Expire),
		Firstname: w.Firstname, Lastname: w.Lastname, Email: w.Email,
		TOTPLocked: w.TOTPLocked, TFALockedUntil: epochTime(w.TFALockedUntil),
	}
	for _, wt := range w.Tokens {
		t, err := wt.token()
		if err != nil {
			return err
		}
		if t.ID.User() != id {
			return fmt.Errorf("pbs: user %s lists token %s of another user", id, t.ID)
		}
		u.Tokens = append(u.Tokens, t)
	}
	return nil
}

// ListUsersOptions are the options of ListUsers.
type ListUsersOptions struct {
	// IncludeTokens fills User.Tokens.
	IncludeTokens bool `api:"include_tokens,omitempty"`
}

// ListUsers returns the users the caller may see, sorted by id: all of them with
// Sys.Audit on /access/users, otherwise only the caller's own user (for an
// API token: its owner). opts may be nil.
//
// PBS: GET /access/users (any authenticated caller; the list depends on
// Sys.Audit on /access/users)
func (s *AccessService) ListUsers(ctx context.Context, opts *ListUsersOptions) ([]User, Digest, error) {
	var out []User
	d, err := s.c.call(ctx, http.MethodGet, "/access/users", opts, &out)
	if err != nil {
		return nil, "", err
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	return out, d, nil
}

// GetUser returns one user (without tokens).
//
// PBS: GET /access/users/{userid} (needs Sys.Audit on /access/users, or
// to be that user)
func (s *AccessService) GetUser(ctx context.Context, id auth.Userid) (*User, Digest, error) {
	if err := checkUser(id); err != nil {
		return nil, "", err
	}
	var out User
	d, err := s.c.call(ctx, http.MethodGet, userPath(id), nil, &out)
	if err != nil {
		return nil, "", err
	}
	return &out, d, nil
}

// NewUser is a user to create. Only ID is required.
type NewUser struct {
	// ID is the new user id; its realm must exist (pbs, pam, or a
	// configured one).
	ID      auth.Userid `api:"userid"`
	Comment string      `api:"comment,omitempty"`
	// Enable, when set, chooses whether the account is enabled; nil keeps
	// the server's default (enabled).
	Enable *bool `api:"enable"`
	// Expire is when the account stops working; zero means never.
	Expire    time.Time `api:"expire,omitempty"`
	Firstname string    `api:"firstname,omitempty"`
	Lastname  string    `api:"lastname,omitempty"`
	Email     string    `api:"email,omitempty"`
	// Password is the password of a "pbs" realm user (5 to 64
	// characters); setting one for a "pam" user needs root@pam.
	Password auth.Secret `api:"password,omitempty"`
}

// CreateUser creates a user.
//
// PBS: POST /access/users (needs Permissions.Modify on /access/users)
func (s *AccessService) CreateUser(ctx context.Context, u NewUser) error {
	if err := checkUser(u.ID); err != nil {
		return err
	}
	_, err := s.c.call(ctx, http.MethodPost, "/access/users", u, nil)
	return err
}

// UserProperty names an optional user setting that UserUpdate.Delete
// removes.
type UserProperty string

// The deletable user properties.
const (
	UserComment   UserProperty = "comment"
	UserFirstname UserProperty = "firstname"
	UserLastname  UserProperty = "lastname"
	UserEmail     UserProperty = "email"
)

// UserUpdate changes some settings of a user. Only non-nil fields are
// sent, so everything else keeps its value.
type UserUpdate struct {
	// Comment replaces the comment (trimmed); "" removes it.
	Comment *string `api:"comment"`
	// Enable enables or disables the account.
	Enable *bool `api:"enable"`
	// Expire replaces the expiry; the zero time removes it (never).
	Expire *time.Time `api:"expire"`
	// Firstname, Lastname and Email replace those fields (2 to 64
	// characters); remove them with Delete.
	Firstname *string `api:"firstname"`
	Lastname  *string `api:"lastname"`
	Email     *string `api:"email"`
	// Delete removes optional settings.
	Delete []UserProperty `api:"delete,omitempty"`
	// Digest, when set, makes the update fail with ErrConflict if the
	// user configuration changed since it was read.
	Digest Digest `api:"digest,omitempty"`
}

// UpdateUser changes a user's settings. Passwords are changed with
// ChangePassword.
//
// PBS: PUT /access/users/{userid} (needs Permissions.Modify on
// /access/users, or to be that user)
func (s *AccessService) UpdateUser(ctx context.Context, id auth.Userid, u UserUpdate) error {
	if err := checkUser(id); err != nil {
		return err
	}
	_, err := s.c.call(ctx, http.MethodPut, userPath(id), u, nil)
	return err
}

type digestParam struct {
	Digest Digest `api:"digest,omitempty"`
}

// DeleteUser deletes a user. digest "" skips the concurrency check.
// Newer servers also delete the user's tokens and every ACL entry of the
// user and its tokens; PBS 3.2.4 left them in place, dormant until a user
// with the same id is created again.
//
// PBS: DELETE /access/users/{userid} (needs Permissions.Modify on
// /access/users, or to be that user)
func (s *AccessService) DeleteUser(ctx context.Context, id auth.Userid, digest Digest) error {
	if err := checkUser(id); err != nil {
		return err
	}
	_, err := s.c.call(ctx, http.MethodDelete, userPath(id), digestParam{digest}, nil)
	return err
}

type passwordParams struct {
	User         auth.Userid `api:"userid"`
	Password     auth.Secret `api:"password"`
	Confirmation auth.Secret `api:"confirmation-password,omitempty"`
}

// ChangePassword sets the password of user. Callers other than root@pam
// confirm with their own current password (confirm); API tokens cannot
// use this call.
//
// PBS: PUT /access/password (anyone for themselves; root@pam, or
// Permissions.Modify on / for users outside the pam realm, for others)
func (s *AccessService) ChangePassword(ctx context.Context, user auth.Userid, password, confirm auth.Secret) error {
	if err := checkUser(user); err != nil {
		return err
	}
	_, err := s.c.call(ctx, http.MethodPut, "/access/password", passwordParams{user, password, confirm}, nil)
	return err
}
