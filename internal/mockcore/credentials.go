package mockcore

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/proxkit/proxkit/auth"
)

// Header and cookie names of the two products.
const (
	// PVETokenPrefix starts a PVE token value in the Authorization header.
	PVETokenPrefix = "PVEAPIToken"
	// PBSTokenPrefix starts the PBS Authorization header of a token.
	PBSTokenPrefix = "PBSAPIToken"
	// PVETicketCookie carries a PVE ticket (Cookie or Authorization header).
	PVETicketCookie = "PVEAuthCookie"
	// PBSTicketCookie carries a PBS ticket.
	PBSTicketCookie = "PBSAuthCookie"
	// PBSHostCookie is the newer PBS ticket cookie, preferred when both
	// are present.
	PBSHostCookie = "__Host-PBSAuthCookie"
	// CSRFHeader carries the CSRF prevention token of ticket sessions.
	CSRFHeader = "CSRFPreventionToken"

	authorizationField = "Authorization"
)

// CredentialKind says which credential a request presented.
type CredentialKind int

const (
	// NoCredential: neither a ticket cookie nor a token header.
	NoCredential CredentialKind = iota
	// TicketCredential: a ticket cookie (the token header, if any, is ignored).
	TicketCredential
	// TokenCredential: an API token header.
	TokenCredential
)

// Credentials is what a request presents, decoded as the product's server
// decodes it. Ticket and Secret are auth.Secret values, so printing a
// Credentials never shows them.
type Credentials struct {
	Kind CredentialKind
	// Ticket is the percent-decoded ticket cookie (TicketCredential).
	Ticket auth.Secret
	// CSRFToken is the CSRFPreventionToken header, "" when absent.
	CSRFToken string
	// TokenID and Secret come from the token header (TokenCredential).
	TokenID auth.Authid
	Secret  auth.Secret
}

// ExtractCredentials reads the credentials of a request as product p does
// (access-api.md 2.1, 2.2): a ticket cookie wins over a token header. It
// returns an error only for a token header with the product's prefix whose
// value does not decode into a token id and a secret (an *AuthError of kind
// ErrAuthFailed, Kind TokenCredential); a missing or foreign header is
// NoCredential without error.
func ExtractCredentials(p auth.Product, h http.Header) (Credentials, error) {
	if ticket, ok := ticketCookie(p, h); ok {
		return Credentials{Kind: TicketCredential, Ticket: auth.NewSecret(ticket), CSRFToken: h.Get(CSRFHeader)}, nil
	}
	id, secret, err := ParseTokenHeader(p, h.Get(authorizationField))
	switch {
	case err == nil:
		return Credentials{Kind: TokenCredential, TokenID: id, Secret: secret}, nil
	case err == ErrNoCredentials:
		return Credentials{}, nil
	default:
		return Credentials{Kind: TokenCredential}, err
	}
}

// ParseTokenHeader decodes an Authorization header value the way product p
// does (access-api.md 2.1):
//
//   - PVE: "PVEAPIToken" anywhere at a word start, then '=' or one space;
//     the value runs to the next ';'; the whole value is percent-decoded and
//     split at its last '='; the id must be a valid PVE token id.
//   - PBS: the header starts with "PBSAPIToken", then '=' or one space; the
//     value is split at its first ':'; only the secret is percent-decoded
//     (and must be UTF-8); the id must be a token id.
//
// It returns ErrNoCredentials (unwrapped) when the product's prefix is not
// there, and an *AuthError of kind ErrAuthFailed for a value that does not
// decode. Errors never contain the secret.
func ParseTokenHeader(p auth.Product, header string) (auth.Authid, auth.Secret, error) {
	switch p {
	case auth.PVE:
		return parsePVETokenHeader(header)
	case auth.PBS:
		return parsePBSTokenHeader(header)
	default:
		return auth.Authid{}, auth.Secret{}, authFailed("unknown product")
	}
}

func parsePVETokenHeader(header string) (auth.Authid, auth.Secret, error) {
	value, ok := pveAuthValue(header, PVETokenPrefix)
	if !ok {
		return auth.Authid{}, auth.Secret{}, ErrNoCredentials
	}
	value = percentDecodeLenient(value)
	// The server matches /^(.*)=(.*)$/: '.' excludes newlines and '$' may
	// sit before one final newline.
	value = strings.TrimSuffix(value, "\n")
	if strings.IndexByte(value, '\n') >= 0 {
		return auth.Authid{}, auth.Secret{}, authFailed("token value contains a newline")
	}
	eq := strings.LastIndexByte(value, '=')
	if eq < 0 {
		return auth.Authid{}, auth.Secret{}, authFailed("no '=' between token id and secret (PVE form is PVEAPIToken=user@realm!token=secret)")
	}
	id, err := parseHeaderTokenID(value[:eq])
	if err != nil {
		return auth.Authid{}, auth.Secret{}, err
	}
	if err := id.ValidateFor(auth.PVE); err != nil {
		return auth.Authid{}, auth.Secret{}, authFailed(err.Error())
	}
	if value[eq+1:] == "" {
		return auth.Authid{}, auth.Secret{}, authFailed("empty token secret")
	}
	return id, auth.NewSecret(value[eq+1:]), nil
}

func parsePBSTokenHeader(header string) (auth.Authid, auth.Secret, error) {
	if !isHeaderText(header) || !strings.HasPrefix(header, PBSTokenPrefix) {
		return auth.Authid{}, auth.Secret{}, ErrNoCredentials
	}
	rest := header[len(PBSTokenPrefix):]
	if rest == "" || rest[0] != ' ' && rest[0] != '=' {
		return auth.Authid{}, auth.Secret{}, ErrNoCredentials
	}
	idPart, secret, found := strings.Cut(rest[1:], ":")
	id, err := parseHeaderTokenID(idPart)
	if err != nil {
		return auth.Authid{}, auth.Secret{}, err
	}
	if !found {
		return auth.Authid{}, auth.Secret{}, authFailed("no ':' between token id and secret (PBS form is PBSAPIToken user@realm!token:secret)")
	}
	secret = percentDecodeLenient(secret)
	if !utf8.ValidString(secret) {
		return auth.Authid{}, auth.Secret{}, authFailed("token secret is not UTF-8 after percent-decoding")
	}
	if secret == "" {
		return auth.Authid{}, auth.Secret{}, authFailed("empty token secret")
	}
	return id, auth.NewSecret(secret), nil
}

// parseHeaderTokenID parses the id part of a token header, which must be a
// full token id. The error shows only the id's redacted form.
func parseHeaderTokenID(s string) (auth.Authid, error) {
	id, err := auth.ParseAuthid(s)
	if err != nil {
		return auth.Authid{}, authFailed(err.Error())
	}
	if !id.IsToken() {
		return auth.Authid{}, authFailed("auth id " + id.String() + " is a user id, not an API token id")
	}
	return id, nil
}

// pveAuthValue finds key at a word start (beginning or after whitespace)
// followed by '=' or ' ', and returns what follows up to the next ';'. An
// empty value counts as absent, as the server tests it for truth.
func pveAuthValue(header, key string) (string, bool) {
	for from := 0; from < len(header); {
		i := strings.Index(header[from:], key)
		if i < 0 {
			return "", false
		}
		i += from
		from = i + 1
		if i > 0 && !isPerlSpace(header[i-1]) {
			continue
		}
		j := i + len(key)
		if j >= len(header) || header[j] != '=' && header[j] != ' ' {
			continue
		}
		value := header[j+1:]
		if k := strings.IndexByte(value, ';'); k >= 0 {
			value = value[:k]
		}
		return value, value != ""
	}
	return "", false
}

func isPerlSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// ticketCookie returns the percent-decoded ticket cookie of product p.
func ticketCookie(p auth.Product, h http.Header) (string, bool) {
	switch p {
	case auth.PVE:
		// Several Cookie lines are joined as one; PVE also takes the
		// ticket from the Authorization header.
		if v, ok := pveAuthValue(strings.Join(h.Values("Cookie"), "; "), PVETicketCookie); ok {
			if v = percentDecodeLenient(v); v != "" {
				return v, true
			}
		}
		if v, ok := pveAuthValue(h.Get(authorizationField), PVETicketCookie); ok {
			if v = percentDecodeLenient(v); v != "" {
				return v, true
			}
		}
		return "", false
	case auth.PBS:
		var ticket string
		found := false
		for _, line := range h.Values("Cookie") {
			if !isHeaderText(line) {
				continue
			}
			if v, ok := pbsCookie(line, PBSHostCookie); ok {
				return v, true
			}
			if v, ok := pbsCookie(line, PBSTicketCookie); ok {
				ticket, found = v, true
			}
		}
		return ticket, found
	default:
		return "", false
	}
}

// pbsCookie extracts one cookie from a Cookie line as the PBS REST server
// does: pairs split at ';', name and value trimmed, the value
// percent-decoded and required to be UTF-8. A pair without '=' ends the
// search in that line.
func pbsCookie(line, name string) (string, bool) {
	for _, pair := range strings.Split(line, ";") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return "", false
		}
		if strings.TrimSpace(k) != name {
			continue
		}
		v = percentDecodeLenient(strings.TrimSpace(v))
		if !utf8.ValidString(v) {
			return "", false
		}
		return v, true
	}
	return "", false
}
