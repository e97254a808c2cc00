package mockcore

import (
	"net/http"
	"time"

	"github.com/proxkit/proxkit/auth"
)

// Authenticator runs the request authentication both servers perform
// before any handler (access-api.md 2.1, 2.2, 2.4): ticket cookie (then
// user state, then CSRF on non-GET) or API token header (then user and
// token state, then the secret). The mock supplies the account state
// through Active.
type Authenticator struct {
	Product auth.Product
	Tickets *TicketSigner
	Secrets *SecretStore
	// Clock is the mock's time; nil means time.Now.
	Clock Clock
	// Active reports whether id may authenticate at now: the user exists,
	// is enabled and not expired (see Expired); for a token also the token
	// exists, is enabled (PBS) and not expired. Nil admits nobody.
	Active func(id auth.Authid, now time.Time) bool
	// Delay holds back 401 replies written by WriteFailure.
	Delay AuthFailureDelay
}

// Authenticate returns the caller's auth id: a user id for ticket
// sessions, a token id for API tokens. Errors are *AuthError of kind
// ErrNoCredentials, ErrAuthFailed or ErrInvalidCSRF; pass them to
// WriteFailure.
func (a *Authenticator) Authenticate(r *http.Request) (auth.Authid, error) {
	now := a.Clock.Now()
	creds, err := ExtractCredentials(a.Product, r.Header)
	if err != nil {
		return auth.Authid{}, err
	}
	switch creds.Kind {
	case TicketCredential:
		if a.Tickets == nil {
			return auth.Authid{}, authFailed("tickets not configured")
		}
		user, err := a.Tickets.Verify(a.Product, creds.Ticket.Reveal(), now)
		if err != nil {
			return auth.Authid{}, authFailed(err.Error())
		}
		if !a.active(user.Authid(), now) {
			return auth.Authid{}, authFailed("user account " + user.String() + " disabled, expired or unknown")
		}
		if NeedsCSRF(r.Method) {
			if creds.CSRFToken == "" {
				return auth.Authid{}, &AuthError{Kind: ErrInvalidCSRF, Reason: "missing CSRF prevention token"}
			}
			if err := a.Tickets.VerifyCSRF(user, creds.CSRFToken, now); err != nil {
				return auth.Authid{}, &AuthError{Kind: ErrInvalidCSRF, Reason: err.Error()}
			}
		}
		return user.Authid(), nil
	case TokenCredential:
		if !a.active(creds.TokenID, now) {
			return auth.Authid{}, authFailed("user or token " + creds.TokenID.String() + " disabled, expired or unknown")
		}
		if a.Secrets == nil || !a.Secrets.Verify(creds.TokenID, creds.Secret.Reveal()) {
			return auth.Authid{}, authFailed("wrong secret for token " + creds.TokenID.String())
		}
		return creds.TokenID, nil
	default:
		return auth.Authid{}, &AuthError{Kind: ErrNoCredentials}
	}
}

func (a *Authenticator) active(id auth.Authid, now time.Time) bool {
	return a.Active != nil && a.Active(id, now)
}

// NeedsCSRF reports whether a ticket-authenticated request with this method
// must carry a CSRF prevention token: every method but GET.
func NeedsCSRF(method string) bool { return method != http.MethodGet }

// WriteFailure waits for a.Delay and writes the 401 of the product for an
// error from Authenticate: PVE an empty body with reason "No ticket",
// "Authentication failed!" or "Permission denied - invalid csrf token";
// PBS the plain text "authentication failed".
func (a *Authenticator) WriteFailure(w http.ResponseWriter, r *http.Request, err error) {
	a.Delay.Wait(r)
	if a.Product == auth.PVE {
		WritePVEAuthError(w, r, PVEAuthReason(err))
		return
	}
	WritePBSError(w, http.StatusUnauthorized, PBSAuthFailed)
}
