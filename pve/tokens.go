package pve

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/proxkit/proxkit/auth"
)

// Token is an API token's settings as PVE stores them. The secret is
// never part of it: the server shows it once, in CreatedToken.
type Token struct {
	// ID is the full token id "user@realm!name". (PVE's API calls the
	// name alone "tokenid".)
	ID auth.Authid
	// Privsep is privilege separation: the token holds only what its own
	// ACL entries grant, capped by its user's privileges. Without it the
	// token has exactly its user's privileges and its own ACL entries are
	// ignored. PVE's default is true.
	Privsep bool
	// Expire is when the token stops working; the zero time means no
	// token-specific expiry (the user's expiry still applies). A token
	// stays valid during the expiry second itself.
	Expire time.Time
	// Comment is free text ("" when unset).
	Comment string
}

// CreatedToken is a new or regenerated token with its secret. The server
// never shows the secret again: store it now.
type CreatedToken struct {
	Token
	// Secret is the token's secret value (a UUID on real servers, to be
	// treated as opaque). It never prints or marshals its value.
	Secret auth.Secret
}

// Credentials returns the token as client credentials, e.g. for
// WithCredentials.
func (t *CreatedToken) Credentials() auth.Token {
	return auth.Token{ID: t.ID, Secret: t.Secret}
}

// TokenOptions are the settings of a new token. The zero value creates a
// privilege-separated token without comment or expiry.
type TokenOptions struct {
	// Comment is free text.
	Comment string `api:"comment,omitempty"`
	// Expire is when the token stops working; zero means no
	// token-specific expiry.
	Expire time.Time `api:"expire,omitempty"`
	// Privsep, when set, chooses privilege separation; nil keeps the
	// server's default (separated), the safe choice.
	Privsep *bool `api:"privsep"`
}

// TokenUpdate changes some settings of a token; nil fields are not sent,
// so they keep their value.
type TokenUpdate struct {
	// Comment replaces the comment; "" removes it.
	Comment *string `api:"comment"`
	// Expire replaces the expiry; the zero time removes it (no
	// token-specific expiry). Disable a token by setting a past time.
	Expire *time.Time `api:"expire"`
	// Privsep switches privilege separation.
	Privsep *bool `api:"privsep"`
	// Delete lists settings to remove; PVE 9.0.x and later accept
	// "comment".
	Delete []string `api:"delete,omitempty"`
}

// wireToken is a token as PVE sends it: in token lists (with "tokenid",
// the name) and in single-token answers (without it).
type wireToken struct {
	TokenID string  `json:"tokenid"`
	Privsep optFlag `json:"privsep"`
	Expire  epoch   `json:"expire"`
	Comment string  `json:"comment"`
	// Set by PUT with regenerate=1 and, together with info, by POST.
	Value       *string `json:"value"`
	FullTokenID string  `json:"full-tokenid"`
}

func (w wireToken) token(id auth.Authid) Token {
	return Token{ID: id, Privsep: w.Privsep.or(true), Expire: w.Expire.time(), Comment: w.Comment}
}

// tokenIn builds the token id of a list row of user's tokens.
func tokenIn(user auth.Userid, w wireToken) (Token, error) {
	name, err := auth.ParseTokenName(w.TokenID)
	if err != nil {
		return Token{}, fmt.Errorf("pve: token list: bad token name: %w", err)
	}
	id, err := auth.NewTokenID(user, name)
	if err != nil {
		return Token{}, fmt.Errorf("pve: token list: %w", err)
	}
	return w.token(id), nil
}

func sortTokens(ts []Token) {
	slices.SortFunc(ts, func(a, b Token) int { return strings.Compare(a.ID.String(), b.ID.String()) })
}

// decodeTokenList converts GET .../token rows.
func decodeTokenList(user auth.Userid, rows []wireToken) ([]Token, error) {
	out := make([]Token, 0, len(rows))
	for _, w := range rows {
		t, err := tokenIn(user, w)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	sortTokens(out)
	return out, nil
}

// createdToken is POST .../token/{tokenid}'s answer.
type createdToken struct {
	FullTokenID string    `json:"full-tokenid"`
	Info        wireToken `json:"info"`
	Value       *string   `json:"value"`
}

// result checks the answer for the token asked for and its secret.
func secretResult(want auth.Authid, full string, value *string, info wireToken) (*CreatedToken, error) {
	if value == nil || *value == "" {
		return nil, fmt.Errorf("pve: token %s: the answer carries no secret: %w", want, ErrMalformedResponse)
	}
	if full != "" && full != want.String() {
		return nil, fmt.Errorf("pve: token %s: the answer names another token: %w", want, ErrMalformedResponse)
	}
	return &CreatedToken{Token: info.token(want), Secret: auth.NewSecret(*value)}, nil
}

// ListTokens returns the API tokens of user, sorted by name.
//
// PVE: GET /access/users/{userid}/token (needs: the user itself, or
// User.Modify on /access/groups or on a group of the user)
func (s *AccessService) ListTokens(ctx context.Context, user auth.Userid) ([]Token, error) {
	if err := checkUser(user); err != nil {
		return nil, err
	}
	var rows []wireToken
	if err := s.c.call(ctx, http.MethodGet, userPath(user)+"/token", nil, &rows); err != nil {
		return nil, err
	}
	return decodeTokenList(user, rows)
}

// GetToken returns the settings of token id ("user@realm!name").
//
// PVE: GET /access/users/{userid}/token/{tokenid} (needs: the user itself,
// or User.Modify on /access/groups or on a group of the user)
func (s *AccessService) GetToken(ctx context.Context, id auth.Authid) (*Token, error) {
	return s.tokenSettings(ctx, http.MethodGet, id, nil)
}

// CreateToken creates token id ("user@realm!name") and returns it with its
// secret, which the server never shows again. opts may be nil.
//
// PVE: POST /access/users/{userid}/token/{tokenid} (needs: the user
// itself, or User.Modify on /access/groups or on a group of the user)
func (s *AccessService) CreateToken(ctx context.Context, id auth.Authid, opts *TokenOptions) (*CreatedToken, error) {
	path, err := tokenPath(id)
	if err != nil {
		return nil, err
	}
	var res createdToken
	if err := s.c.call(ctx, http.MethodPost, path, opts, &res); err != nil {
		return nil, err
	}
	return secretResult(id, res.FullTokenID, res.Value, res.Info)
}

// UpdateToken changes the settings u sets and returns the token as
// stored afterwards. Only the fields set in u are sent.
//
// PVE: PUT /access/users/{userid}/token/{tokenid} (needs: the user itself,
// or User.Modify on /access/groups or on a group of the user)
func (s *AccessService) UpdateToken(ctx context.Context, id auth.Authid, u TokenUpdate) (*Token, error) {
	return s.tokenSettings(ctx, http.MethodPut, id, u)
}

// tokenSettings calls method on token id's path with params and decodes
// the token's settings from the answer (GET and PUT answer the same shape).
func (s *AccessService) tokenSettings(ctx context.Context, method string, id auth.Authid, params any) (*Token, error) {
	path, err := tokenPath(id)
	if err != nil {
		return nil, err
	}
	var w wireToken
	if err := s.c.call(ctx, method, path, params, &w); err != nil {
		return nil, err
	}
	t := w.token(id)
	return &t, nil
}

// RegenerateToken replaces the secret of token id and returns the new
// one; the old secret stops working at once, the token keeps its settings
// and ACL entries. Needs PVE 9.1 or later (older servers answer 400 for
// the unknown parameter).
//
// PVE: PUT /access/users/{userid}/token/{tokenid} regenerate=1 (needs: the
// user itself, or User.Modify on /access/groups or on a group of the user)
func (s *AccessService) RegenerateToken(ctx context.Context, id auth.Authid) (*CreatedToken, error) {
	path, err := tokenPath(id)
	if err != nil {
		return nil, err
	}
	params := struct {
		Regenerate bool `api:"regenerate"`
	}{true}
	var w wireToken
	if err := s.c.call(ctx, http.MethodPut, path, params, &w); err != nil {
		return nil, err
	}
	return secretResult(id, w.FullTokenID, w.Value, w)
}

// DeleteToken deletes token id; its secret stops working at once and
// its ACL entries go with it.
//
// PVE: DELETE /access/users/{userid}/token/{tokenid} (needs: the user
// itself, or User.Modify on /access/groups or on a group of the user)
func (s *AccessService) DeleteToken(ctx context.Context, id auth.Authid) error {
	path, err := tokenPath(id)
	if err != nil {
		return err
	}
	return s.c.call(ctx, http.MethodDelete, path, nil, nil)
}
