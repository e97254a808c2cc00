package pve

import (
	"context"
	"fmt"
	"net/http"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/httpapi"
	"github.com/proxkit/proxkit/internal/options"
)

// Client talks to one Proxmox VE server (or cluster node). It is safe for
// concurrent use. Its fields group the API by area, as the server's
// documentation does; Get, Post, Put and Delete reach any other endpoint.
type Client struct {
	// Access manages users, groups, API tokens, ACLs, roles and
	// permissions.
	Access *AccessService

	api *httpapi.Client
}

// NewClient returns a client for the server at baseURL ("https://host",
// "https://host:8006"; the port defaults to 8006). Without WithFingerprint
// or WithRootCAs the certificate is verified against the system roots.
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	var s settings
	if err := options.Apply(&s, opts); err != nil {
		return nil, err
	}
	api, err := s.Build(auth.PVE, baseURL)
	if err != nil {
		return nil, fmt.Errorf("pve: %w", err)
	}
	c := &Client{api: api}
	c.Access = &AccessService{c: c}
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

// Version is what GET /version reports.
type Version struct {
	Version string `json:"version"` // package version of pve-manager, e.g. "9.1.1"
	Release string `json:"release"` // major.minor release, e.g. "9.1"
	RepoID  string `json:"repoid"`  // short commit id of the build
	// Console is the default console viewer of the datacenter
	// configuration ("applet", "vv", "html5", "xtermjs"), "" when unset.
	Console string `json:"console,omitempty"`
}

// Version returns the server's version.
//
// PVE: GET /version (any authenticated caller)
func (c *Client) Version(ctx context.Context) (*Version, error) {
	var v Version
	if err := c.call(ctx, http.MethodGet, "/version", nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// JoinPath builds an API path from raw segments, escaping each one so
// that ids stay one segment: JoinPath("nodes", node, "qemu", "100") is
// "/nodes/pve1/qemu/100". Use it for the paths given to Get, Post, Put and
// Delete.
func JoinPath(segments ...string) string { return httpapi.JoinPath(segments...) }

// Get calls GET path (relative to /api2/json, e.g. "/nodes") and decodes
// the "data" member of the answer into out (a pointer as for
// json.Unmarshal; nil discards it). params is nil, a url.Values, or a
// struct whose fields carry `api:"name,omitempty"` tags (nil pointer
// fields are not sent, booleans travel as 0/1, slices comma-joined); GET
// parameters go into the query string. GET is retried per the retry
// policy. Errors are *Error for answers of the server.
//
// PVE: GET <path> (privileges as the endpoint documents)
func (c *Client) Get(ctx context.Context, path string, params, out any) error {
	return c.call(ctx, http.MethodGet, path, params, out)
}

// Post calls POST path with params as a form body (see Get) and decodes
// "data" into out. It is never retried.
//
// PVE: POST <path> (privileges as the endpoint documents)
func (c *Client) Post(ctx context.Context, path string, params, out any) error {
	return c.call(ctx, http.MethodPost, path, params, out)
}

// Put calls PUT path with params as a form body (see Get) and decodes
// "data" into out. It is never retried.
//
// PVE: PUT <path> (privileges as the endpoint documents)
func (c *Client) Put(ctx context.Context, path string, params, out any) error {
	return c.call(ctx, http.MethodPut, path, params, out)
}

// Delete calls DELETE path with params in the query string (see Get) and
// decodes "data" into out. It is never retried.
//
// PVE: DELETE <path> (privileges as the endpoint documents)
func (c *Client) Delete(ctx context.Context, path string, params, out any) error {
	return c.call(ctx, http.MethodDelete, path, params, out)
}

// call is the one place requests of this package go through, so that
// every server error surfaces as *Error.
func (c *Client) call(ctx context.Context, method, path string, params, out any) error {
	_, err := c.api.Do(ctx, httpapi.Request{Method: method, Path: path, Params: params, Out: out})
	return wrapError(err)
}
