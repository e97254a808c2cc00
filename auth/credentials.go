package auth

import (
	"context"
	"net/http"
)

// Doer sends an HTTP request; *http.Client satisfies it.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Endpoint tells credentials where requests go, so that session credentials
// (tickets) can log in or renew through the same transport.
type Endpoint struct {
	Product Product
	BaseURL string // "https://host:port", without /api2/json
	Client  Doer
}

// Credentials authenticate requests to a Proxmox server. Implementations
// must be safe for concurrent use.
type Credentials interface {
	// AuthID is the identity the credentials prove.
	AuthID() Authid
	// Apply adds the authentication headers (and for tickets, the CSRF
	// token on non-GET requests) to req, logging in or renewing first when
	// needed. A request never carries both a ticket cookie and a token.
	Apply(ctx context.Context, req *http.Request, ep Endpoint) error
}

// Invalidator is implemented by session credentials (*Ticket) that the
// server can revoke. When a request made with them is answered 401, the
// HTTP client calls Invalidate so that the next Apply logs in afresh; the
// authenticated id's Hint (see Authid.Hint) can be added to the error.
type Invalidator interface {
	Invalidate()
}
