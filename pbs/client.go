package pbs

import (
	"fmt"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/httpapi"
	"github.com/proxkit/proxkit/internal/options"
)

// Client talks to one Proxmox Backup Server. It is safe for concurrent
// use. Its fields group the API by area, as the server's documentation
// does.
type Client struct {
	// Access manages users, API tokens, ACLs, roles and permissions.
	Access *AccessService
	// Datastore manages namespaces, groups and snapshots of datastores.
	Datastore *DatastoreService

	api      *httpapi.Client
	settings settings // kept for backup and reader sessions, which dial their own connections
	target   Target   // datastore and namespace of NewClientFrom*
}

// NewClient returns a client for the server at baseURL ("https://host",
// "https://host:8007"; the port defaults to 8007). Without WithFingerprint
// or WithRootCAs the certificate is verified against the system roots.
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	c := &Client{}
	if err := options.Apply(&c.settings, opts); err != nil {
		return nil, err
	}
	api, err := c.settings.Build(auth.PBS, baseURL)
	if err != nil {
		return nil, fmt.Errorf("pbs: %w", err)
	}
	c.api = api
	c.Access = &AccessService{c: c}
	c.Datastore = &DatastoreService{c: c}
	return c, nil
}

// BaseURL returns the normalised "https://host:port" of the server.
func (c *Client) BaseURL() string { return c.api.BaseURL() }

// AuthID returns the identity the client authenticates as (the zero
// Authid for an unauthenticated client).
func (c *Client) AuthID() auth.Authid {
	if cr := c.api.Credentials(); cr != nil {
		return cr.AuthID()
	}
	return auth.Authid{}
}
