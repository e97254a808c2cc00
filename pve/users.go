package pve

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/httpapi"
)

// User is an account as PVE shows it.
type User struct {
	ID auth.Userid // "name@realm"
	// Enable is false for a disabled account, which cannot log in and
	// whose tokens all fail.
	Enable bool
	// Expire is when the account stops working; the zero time means
	// never. The account stays valid during the expiry second itself.
	Expire    time.Time
	Firstname string // "" when unset, as are the other text fields
	Lastname  string // last name
	Email     string // e-mail address
	Comment   string // free text
	// Keys holds the user's legacy second-factor keys (Yubico ids).
	Keys string
	// Groups are the user's groups, sorted. ListUsers fills it only with
	// Full; GetUser always.
	Groups []string
	// Tokens are the user's API tokens, sorted by name. ListUsers fills
	// it only with Full; GetUser always.
	Tokens []Token
	// RealmType is the type of the user's realm ("pam", "pve", "ldap"
	// …); only ListUsers reports it.
	RealmType string
	// TOTPLocked reports a user locked out of TOTP factors after too many
	// failures; only ListUsers reports it.
	TOTPLocked bool
	// TFALockedUntil is when a second-factor lockout ends (zero: none);
	// only ListUsers reports it.
	TFALockedUntil time.Time
}

// UserListOptions filter ListUsers. A nil *UserListOptions lists every
// visible user without groups and tokens.
type UserListOptions struct {
	// Enabled, when set, lists only enabled (true) or disabled (false)
	// users.
	Enabled *bool `api:"enabled"`
	// Full includes each user's groups and tokens.
	Full bool `api:"full,omitempty"`
}

// UserOptions are the settings of a new user. The zero value creates an
// enabled account without password, groups or expiry.
type UserOptions struct {
	// Enable, when set, chooses whether the account starts enabled; nil
	// keeps the server's default (enabled).
	Enable *bool `api:"enable"`
	// Expire is when the account stops working; zero means never.
	Expire    time.Time `api:"expire,omitempty"`
	Firstname string    `api:"firstname,omitempty"` // up to 1024 characters
	Lastname  string    `api:"lastname,omitempty"`  // up to 1024 characters
	Email     string    `api:"email,omitempty"`     // an e-mail address, up to 254 characters
	Comment   string    `api:"comment,omitempty"`   // up to 2048 characters
	Keys      string    `api:"keys,omitempty"`      // legacy second-factor (Yubico) key ids
	// Password is the initial password (8 to 64 characters; realms pve
	// and pam). It is sent once and never logged.
	Password auth.Secret `api:"password,omitempty"`
	// Groups are existing groups to add the user to.
	Groups []string `api:"groups,omitempty"`
}

// UserUpdate changes some settings of a user; nil fields are not sent,
// so they keep their value. PVE has no "delete" list for users: an empty
// string clears a text field.
type UserUpdate struct {
	Enable    *bool      `api:"enable"`    // false disables the account and all its tokens
	Expire    *time.Time `api:"expire"`    // the zero time: never expires
	Firstname *string    `api:"firstname"` // "" clears, as for the other text fields
	Lastname  *string    `api:"lastname"`  // last name
	Email     *string    `api:"email"`     // e-mail address
	Comment   *string    `api:"comment"`   // free text
	Keys      *string    `api:"keys"`      // legacy second-factor key ids
	// Groups replaces the user's group memberships (an empty list
	// removes all of them), or with Append adds to them.
	Groups *[]string `api:"groups"`
	// Append adds Groups instead of replacing the memberships; it needs
	// Groups.
	Append bool `api:"append,omitempty"`
}

// wireUser is a user in GET /access/users (groups comma-joined, tokens an
// array) and GET /access/users/{userid} (groups an array, tokens an
// object keyed by name).
type wireUser struct {
	UserID         string         `json:"userid"`
	Enable         optFlag        `json:"enable"`
	Expire         epoch          `json:"expire"`
	Firstname      string         `json:"firstname"`
	Lastname       string         `json:"lastname"`
	Email          string         `json:"email"`
	Comment        string         `json:"comment"`
	Keys           string         `json:"keys"`
	Groups         idList         `json:"groups"`
	Tokens         wireUserTokens `json:"tokens"`
	RealmType      string         `json:"realm-type"`
	TOTPLocked     flag           `json:"totp-locked"`
	TFALockedUntil epoch          `json:"tfa-locked-until"`
}

// wireUserTokens accepts both token shapes of the user endpoints.
type wireUserTokens struct {
	list  []wireToken
	named map[string]wireToken
}

// UnmarshalJSON takes a token array (list) or an object keyed by name (get).
func (t *wireUserTokens) UnmarshalJSON(b []byte) error {
	*t = wireUserTokens{}
	switch firstByte(b) {
	case 'n':
		return nil
	case '[':
		return jsonUnmarshal(b, &t.list)
	case '{':
		return jsonUnmarshal(b, &t.named)
	}
	return fmt.Errorf("pve: tokens: array or object expected")
}

func (w wireUser) user(id auth.Userid) (User, error) {
	u := User{
		ID: id, Enable: w.Enable.or(true), Expire: w.Expire.time(),
		Firstname: w.Firstname, Lastname: w.Lastname, Email: w.Email, Comment: w.Comment, Keys: w.Keys,
		RealmType: w.RealmType, TOTPLocked: bool(w.TOTPLocked), TFALockedUntil: w.TFALockedUntil.time(),
	}
	if len(w.Groups) > 0 {
		u.Groups = slices.Sorted(slices.Values(w.Groups))
	}
	rows := w.Tokens.list
	for _, name := range slices.Sorted(maps.Keys(w.Tokens.named)) {
		row := w.Tokens.named[name]
		row.TokenID = name
		rows = append(rows, row)
	}
	if len(rows) > 0 {
		ts, err := decodeTokenList(id, rows)
		if err != nil {
			return User{}, err
		}
		u.Tokens = ts
	}
	return u, nil
}

// decodeUserList converts GET /access/users rows, sorted by user id.
func decodeUserList(rows []wireUser) ([]User, error) {
	out := make([]User, 0, len(rows))
	for _, w := range rows {
		id, err := auth.ParseUserid(w.UserID)
		if err != nil {
			return nil, fmt.Errorf("pve: user list: %w", err)
		}
		u, err := w.user(id)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	return out, nil
}

// ListUsers returns the users the caller may see, sorted by id: every
// user for callers with User.Modify or Sys.Audit on /access/groups,
// otherwise the members of groups where the caller has one of them, and
// always the caller's own user.
//
// PVE: GET /access/users (any authenticated caller; the list is filtered)
func (s *AccessService) ListUsers(ctx context.Context, opts *UserListOptions) ([]User, error) {
	var rows []wireUser
	if err := s.c.call(ctx, http.MethodGet, "/access/users", opts, &rows); err != nil {
		return nil, err
	}
	return decodeUserList(rows)
}

// GetUser returns user id with its groups and tokens.
//
// PVE: GET /access/users/{userid} (needs User.Modify or Sys.Audit on
// /access/groups or on a group of the user)
func (s *AccessService) GetUser(ctx context.Context, id auth.Userid) (*User, error) {
	if err := checkUser(id); err != nil {
		return nil, err
	}
	var w wireUser
	if err := s.c.call(ctx, http.MethodGet, userPath(id), nil, &w); err != nil {
		return nil, err
	}
	u, err := w.user(id)
	if err != nil {
		return nil, err
	}
	if u.Groups == nil {
		u.Groups = []string{}
	}
	return &u, nil
}

// CreateUser creates user id; opts may be nil.
//
// PVE: POST /access/users (needs Realm.AllocateUser on
// /access/realm/{realm}, and User.Modify on /access/groups or on every
// group in opts.Groups)
func (s *AccessService) CreateUser(ctx context.Context, id auth.Userid, opts *UserOptions) error {
	if err := checkUser(id); err != nil {
		return err
	}
	params, err := httpapi.EncodeParams(auth.PVE, opts)
	if err != nil {
		return err
	}
	params.Set("userid", id.String())
	return s.c.call(ctx, http.MethodPost, "/access/users", params, nil)
}

// UpdateUser changes the settings u sets; only those are sent.
//
// PVE: PUT /access/users/{userid} (needs User.Modify on /access/groups or
// on a group of the user, and on every group in u.Groups)
func (s *AccessService) UpdateUser(ctx context.Context, id auth.Userid, u UserUpdate) error {
	if err := checkUser(id); err != nil {
		return err
	}
	if u.Append && u.Groups == nil {
		return fmt.Errorf("pve: UpdateUser: Append needs Groups: %w", ErrInvalidRequest)
	}
	return s.c.call(ctx, http.MethodPut, userPath(id), u, nil)
}

// DeleteUser deletes user id with its tokens, group memberships and ACL
// entries.
//
// PVE: DELETE /access/users/{userid} (needs Realm.AllocateUser on
// /access/realm/{realm}, and User.Modify on /access/groups or on a group
// of the user)
func (s *AccessService) DeleteUser(ctx context.Context, id auth.Userid) error {
	if err := checkUser(id); err != nil {
		return err
	}
	return s.c.call(ctx, http.MethodDelete, userPath(id), nil, nil)
}
