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

// Token is an API token's settings as PBS stores them. The secret is
// never part of it: the server shows it once, in CreatedToken.
//
// PBS tokens are always privilege-separated: a token holds only what its
// own ACL entries grant, capped by its user's privileges on the same path.
type Token struct {
	// ID is the full token id "user@realm!name" (PBS's "tokenid").
	ID auth.Authid
	// Comment is free text ("" when unset).
	Comment string
	// Enabled is false for a disabled token, which fails to authenticate.
	Enabled bool
	// Expire is when the token stops working; the zero time means never.
	// PBS treats the token as expired from that second on.
	Expire time.Time
}

// wireToken is PBS's ApiToken, with "token-name" in token lists.
type wireToken struct {
	TokenName *string `json:"token-name"`
	Tokenid   string  `json:"tokenid"`
	Comment   string  `json:"comment"`
	Enable    *bool   `json:"enable"`
	Expire    *int64  `json:"expire"`
}

func (w wireToken) token() (Token, error) {
	id, err := auth.ParseAuthid(w.Tokenid)
	if err != nil {
		return Token{}, fmt.Errorf("pbs: token with bad tokenid: %w", err)
	}
	if !id.IsToken() {
		return Token{}, fmt.Errorf("pbs: tokenid %q is not an API token id", w.Tokenid)
	}
	if w.TokenName != nil && *w.TokenName != string(id.TokenName()) {
		return Token{}, fmt.Errorf("pbs: token-name %q does not match tokenid %q", *w.TokenName, w.Tokenid)
	}
	return Token{ID: id, Comment: w.Comment, Enabled: enabled(w.Enable), Expire: epochTime(w.Expire)}, nil
}

// UnmarshalJSON decodes a token as PBS sends it: "tokenid" is the full
// token id, which must parse.
func (t *Token) UnmarshalJSON(b []byte) error {
	var w wireToken
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	tok, err := w.token()
	if err != nil {
		return err
	}
	*t = tok
	return nil
}

// CreatedToken is a new or regenerated token with its secret. The server
// never shows the secret again: store it now.
type CreatedToken struct {
	// ID is the full token id.
	ID auth.Authid
	// Secret is the token's secret (a UUID on real servers, to be treated
	// as opaque). It never prints or marshals its value.
	Secret auth.Secret
}

// Credentials returns the token as client credentials, for
// WithCredentials.
func (t *CreatedToken) Credentials() auth.Token {
	return auth.Token{ID: t.ID, Secret: t.Secret}
}

// String shows the token id, never the secret.
func (t *CreatedToken) String() string { return t.ID.String() }

// tokenSecret decodes the answer of create and regenerate: PBS sends
// {"tokenid", "value"}; schema-derived clients expect {"secret"}, so both
// are accepted.
type tokenSecret struct {
	Tokenid string  `json:"tokenid"`
	Value   *string `json:"value"`
	Secret  *string `json:"secret"`
}

func (ts *tokenSecret) created(want auth.Authid) (*CreatedToken, error) {
	v := ts.Value
	if v == nil {
		v = ts.Secret
	}
	if v == nil || *v == "" {
		return nil, fmt.Errorf("pbs: token %s: the answer carries no secret: %w", want, ErrMalformedResponse)
	}
	if ts.Tokenid != "" && ts.Tokenid != want.String() {
		return nil, fmt.Errorf("pbs: token %s: the answer names another token: %w", want, ErrMalformedResponse)
	}
	return &CreatedToken{ID: want, Secret: auth.NewSecret(*v)}, nil
}

// ListTokens returns the API tokens of user, sorted by name.
//
// PBS: GET /access/users/{userid}/token (needs Sys.Audit on
// /access/users, or to be that user)
func (s *AccessService) ListTokens(ctx context.Context, user auth.Userid) ([]Token, Digest, error) {
	if err := checkUser(user); err != nil {
		return nil, "", err
	}
	var out []Token
	d, err := s.c.call(ctx, http.MethodGet, userPath(user)+"/token", nil, &out)
	if err != nil {
		return nil, "", err
	}
	for _, t := range out {
		if t.ID.User() != user {
			return nil, "", fmt.Errorf("pbs: tokens of %s: the answer lists %s: %w", user, t.ID, ErrMalformedResponse)
		}
	}
	slices.SortFunc(out, func(a, b Token) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	return out, d, nil
}

// GetToken returns one token's settings.
//
// PBS: GET /access/users/{userid}/token/{token-name} (needs Sys.Audit on
// /access/users, or to be that user)
func (s *AccessService) GetToken(ctx context.Context, id auth.Authid) (*Token, Digest, error) {
	if err := checkToken(id); err != nil {
		return nil, "", err
	}
	var out Token
	d, err := s.c.call(ctx, http.MethodGet, tokenPath(id), nil, &out)
	if err != nil {
		return nil, "", err
	}
	if out.ID != id {
		return nil, "", fmt.Errorf("pbs: token %s: the answer is about %s: %w", id, out.ID, ErrMalformedResponse)
	}
	return &out, d, nil
}

// TokenOptions are the settings of a new token. The zero value creates an
// enabled token without comment or expiry.
type TokenOptions struct {
	// Comment is free text (one line, up to 128 characters).
	Comment string `api:"comment,omitempty"`
	// Enable, when set, chooses whether the token starts enabled; nil
	// keeps the server's default (enabled).
	Enable *bool `api:"enable"`
	// Expire is when the token stops working; zero means never.
	Expire time.Time `api:"expire,omitempty"`
	// Digest, when set, makes the call fail with ErrConflict if the user
	// configuration changed since it was read.
	Digest Digest `api:"digest,omitempty"`
}

// CreateToken creates API token id ("user@realm!name") and returns its
// secret, which the server never shows again. The token can do nothing
// until ACL entries grant it privileges its user also holds.
//
// PBS: POST /access/users/{userid}/token/{token-name} (needs
// Permissions.Modify on /access/users, or to be that user)
func (s *AccessService) CreateToken(ctx context.Context, id auth.Authid, opts TokenOptions) (*CreatedToken, error) {
	if err := checkToken(id); err != nil {
		return nil, err
	}
	var out tokenSecret
	if _, err := s.c.call(ctx, http.MethodPost, tokenPath(id), opts, &out); err != nil {
		return nil, err
	}
	return out.created(id)
}

// TokenUpdate changes some settings of a token. Only non-nil fields are
// sent, so everything else keeps its value.
type TokenUpdate struct {
	// Comment replaces the comment (trimmed); "" removes it.
	Comment *string `api:"comment"`
	// Enable enables or disables the token.
	Enable *bool `api:"enable"`
	// Expire replaces the expiry; the zero time removes it (never).
	Expire *time.Time `api:"expire"`
	// DeleteComment removes the comment (newer servers).
	DeleteComment bool `api:"-"`
	// Digest, when set, makes the update fail with ErrConflict if the
	// user configuration changed since it was read.
	Digest Digest `api:"digest,omitempty"`
}

type tokenUpdateParams struct {
	TokenUpdate
	Delete     []string `api:"delete,omitempty"`
	Regenerate bool     `api:"regenerate,omitempty"`
}

// UpdateToken changes a token's settings.
//
// PBS: PUT /access/users/{userid}/token/{token-name} (needs
// Permissions.Modify on /access/users, or to be that user)
func (s *AccessService) UpdateToken(ctx context.Context, id auth.Authid, u TokenUpdate) error {
	if err := checkToken(id); err != nil {
		return err
	}
	_, err := s.c.call(ctx, http.MethodPut, tokenPath(id), updateParams(u, false), nil)
	return err
}

func updateParams(u TokenUpdate, regenerate bool) tokenUpdateParams {
	p := tokenUpdateParams{TokenUpdate: u, Regenerate: regenerate}
	if u.DeleteComment {
		p.Delete = []string{"comment"}
	}
	return p
}

// EnableToken enables a token (UpdateToken with Enable true).
//
// PBS: PUT /access/users/{userid}/token/{token-name} (needs
// Permissions.Modify on /access/users, or to be that user)
func (s *AccessService) EnableToken(ctx context.Context, id auth.Authid) error {
	on := true
	return s.UpdateToken(ctx, id, TokenUpdate{Enable: &on})
}

// DisableToken disables a token: it fails to authenticate from the next
// request on, and keeps its secret and ACL entries for EnableToken.
//
// PBS: PUT /access/users/{userid}/token/{token-name} (needs
// Permissions.Modify on /access/users, or to be that user)
func (s *AccessService) DisableToken(ctx context.Context, id auth.Authid) error {
	off := false
	return s.UpdateToken(ctx, id, TokenUpdate{Enable: &off})
}

// RegenerateToken gives a token a new secret and returns it; the old
// secret stops working. The token keeps its settings and ACL entries.
// digest "" skips the concurrency check. Servers older than PBS 3.3
// refuse the call (unknown parameter).
//
// PBS: PUT /access/users/{userid}/token/{token-name} regenerate=1 (needs
// Permissions.Modify on /access/users, or to be that user)
func (s *AccessService) RegenerateToken(ctx context.Context, id auth.Authid, digest Digest) (*CreatedToken, error) {
	if err := checkToken(id); err != nil {
		return nil, err
	}
	var out tokenSecret
	if _, err := s.c.call(ctx, http.MethodPut, tokenPath(id), updateParams(TokenUpdate{Digest: digest}, true), &out); err != nil {
		return nil, err
	}
	return out.created(id)
}

// DeleteToken deletes a token and its secret. digest "" skips the
// concurrency check. Newer servers also delete the token's ACL entries;
// PBS 3.2.4 kept them for a token re-created with the same name.
//
// PBS: DELETE /access/users/{userid}/token/{token-name} (needs
// Permissions.Modify on /access/users, or to be that user)
func (s *AccessService) DeleteToken(ctx context.Context, id auth.Authid, digest Digest) error {
	if err := checkToken(id); err != nil {
		return err
	}
	_, err := s.c.call(ctx, http.MethodDelete, tokenPath(id), digestParam{digest}, nil)
	return err
}
