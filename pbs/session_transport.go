package pbs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/proxkit/proxkit/internal/h2upgrade"
	"github.com/proxkit/proxkit/internal/httpapi"
)

// dialSession opens a backup or reader session: the upgrade request
// GET /api2/json/<endpoint>?<query> with the client's credentials and
// TLS settings, then HTTP/2 on that connection. The connection is the
// session's own; it is never shared or redialed.
func (c *Client) dialSession(ctx context.Context, endpoint, protocol string, q url.Values) (*session, error) {
	tlsConf, err := c.settings.TLSConfig()
	if err != nil {
		return nil, fmt.Errorf("pbs: %w", err)
	}
	u, err := url.Parse(c.api.BaseURL() + httpapi.APIPrefix + "/" + endpoint)
	if err != nil {
		return nil, fmt.Errorf("pbs: %s session URL: %w", endpoint, err)
	}
	u.RawQuery = q.Encode()
	creds := c.api.Credentials()
	conn, err := h2upgrade.Dial(ctx, h2upgrade.DialConfig{
		URL:       u,
		Protocol:  protocol,
		TLSConfig: tlsConf,
		UserAgent: c.api.UserAgent(),
		Authorize: func(r *http.Request) error {
			if creds == nil {
				return nil
			}
			return creds.Apply(ctx, r, c.api.Endpoint())
		},
	})
	if err != nil {
		var refused *h2upgrade.UpgradeError
		if errors.As(err, &refused) {
			return nil, c.upgradeRefusal(endpoint, refused)
		}
		return nil, &SessionError{Method: http.MethodGet, Path: "/" + endpoint, Err: sessionCause(err)}
	}
	return &session{conn: conn, api: c.api}, nil
}

// upgradeRefusal turns a refused upgrade into an *Error, decoded (hints
// included) exactly as a refused REST call would be.
func (c *Client) upgradeRefusal(endpoint string, refused *h2upgrade.UpgradeError) error {
	resp := &http.Response{
		StatusCode: refused.Status,
		Status:     fmt.Sprintf("%d %s", refused.Status, http.StatusText(refused.Status)),
		Header:     http.Header{},
		Body:       io.NopCloser(strings.NewReader(refused.Message)),
		Request: &http.Request{
			Method: http.MethodGet,
			URL:    &url.URL{Path: httpapi.APIPrefix + "/" + endpoint},
			Header: http.Header{},
		},
	}
	if err := c.api.CheckResponse(resp); err != nil {
		return wrapError(err)
	}
	return fmt.Errorf("pbs: %s upgrade refused with status %d", endpoint, refused.Status)
}
