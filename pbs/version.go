package pbs

import (
	"context"
	"fmt"
	"net/http"
)

// VersionInfo is what GET /version reports.
type VersionInfo struct {
	// Version is the package version ("3.2.4").
	Version string `json:"version"`
	// Release is the package release ("1").
	Release string `json:"release"`
	// RepoID is the git commit the server was built from.
	RepoID string `json:"repoid"`
}

// String returns "Version-Release".
func (v VersionInfo) String() string { return v.Version + "-" + v.Release }

// Version returns the server's version. It is the cheapest authenticated
// call, so it also checks that the credentials work.
//
// PBS: GET /version (any authenticated caller)
func (c *Client) Version(ctx context.Context) (*VersionInfo, error) {
	var out VersionInfo
	if _, err := c.call(ctx, http.MethodGet, "/version", nil, &out); err != nil {
		return nil, err
	}
	if out.Version == "" {
		return nil, fmt.Errorf("pbs: version answer without version: %w", ErrMalformedResponse)
	}
	return &out, nil
}
