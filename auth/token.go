package auth

import (
	"context"
	"fmt"
	"net/http"
)

// Token is an API token: a token id and its secret. It implements
// Credentials by sending the Authorization header of the endpoint's
// product; it never logs in, never sets cookies and needs no CSRF token.
// String, GoString and every fmt verb show the id, never the secret.
type Token struct {
	ID     Authid
	Secret Secret
}

// NewToken returns the token id with its secret, checking that id is a
// token id (name@realm!token) and that the secret is not empty.
func NewToken(id Authid, secret Secret) (Token, error) {
	if id.IsZero() {
		return Token{}, idErr("auth id", "", "empty token id")
	}
	if !id.IsToken() {
		return Token{}, idErr("auth id", id.String(), "not an API token id: write name@realm!token (a user id logs in with a password, see NewTicketCredentials)")
	}
	if secret.IsZero() {
		return Token{}, &MissingSecretError{AuthID: id, Token: true}
	}
	return Token{ID: id, Secret: secret}, nil
}

// AuthID returns the token id.
func (t Token) AuthID() Authid { return t.ID }

// PVEHeader returns the Authorization header value for Proxmox VE:
// "PVEAPIToken=USER@REALM!NAME=SECRET". PVE percent-decodes the whole
// value, so '%', ';', whitespace, controls and non-ASCII bytes are
// percent-encoded; real secrets (UUIDs) and ids come out unchanged.
func (t Token) PVEHeader() string {
	return "PVEAPIToken=" + percentEncode(t.ID.String(), pveEncode) + "=" + percentEncode(t.Secret.Reveal(), pveEncode)
}

// PBSHeader returns the Authorization header value for Proxmox Backup
// Server: "PBSAPIToken=USER@REALM!NAME:SECRET".
//
// PBS 3.2.4 (its auth crate, proxmox-auth-api 0.4) accepts either '=' or a
// single space after the prefix, as did the server's own code before that
// crate existed; proxmox-backup-client happens to send the space form. The
// '=' form matches PVE's header shape. The server takes
// the id literally and percent-decodes the secret, so the secret is
// percent-encoded with the reference client's set (controls, space,
// "#<>?`{} and non-ASCII) plus '%' itself, which the reference client
// leaves alone although the server would decode it.
func (t Token) PBSHeader() string {
	return "PBSAPIToken=" + t.ID.String() + ":" + percentEncode(t.Secret.Reveal(), pbsEncode)
}

// Header returns the Authorization header value for product p.
func (t Token) Header(p Product) (string, error) {
	switch p {
	case PVE:
		return t.PVEHeader(), nil
	case PBS:
		return t.PBSHeader(), nil
	default:
		return "", fmt.Errorf("auth: unknown product %d", int(p))
	}
}

// Apply sets the Authorization header for ep.Product and removes ticket
// cookies the request may carry, so that the server sees only the token.
// It does no I/O.
func (t Token) Apply(_ context.Context, req *http.Request, ep Endpoint) error {
	if !t.ID.IsToken() {
		return idErr("auth id", t.ID.String(), "not an API token id")
	}
	if t.Secret.IsZero() {
		return &MissingSecretError{AuthID: t.ID, Token: true}
	}
	h, err := t.Header(ep.Product)
	if err != nil {
		return err
	}
	removeTicketCookies(req.Header)
	req.Header.Set("Authorization", h)
	return nil
}

// String returns "API token <id>", without the secret.
func (t Token) String() string { return "API token " + t.ID.String() }

// GoString shows the id and a placeholder for the secret.
func (t Token) GoString() string {
	return fmt.Sprintf("auth.Token{ID: %q, Secret: %#v}", t.ID.String(), t.Secret)
}
