package httpapi

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/proxkit/proxkit/auth"
)

// DefaultMaxResponseSize bounds the JSON answers Do decodes (64 MiB), so
// that a broken server cannot exhaust memory. Streamed downloads
// (Request.Stream) are not limited.
const DefaultMaxResponseSize = 64 << 20

// DefaultUserAgent is sent when Config.UserAgent is empty.
const DefaultUserAgent = "proxkit"

// Config configures New.
type Config struct {
	// BaseURL is "https://host[:port]", with or without a trailing
	// "/api2/json"; the port defaults to the product's (8006 PVE, 8007 PBS).
	BaseURL string
	// Product selects the dialect: auth.PVE or auth.PBS.
	Product auth.Product
	// Credentials authenticate every request; nil sends requests
	// unauthenticated (for the few endpoints that allow it).
	Credentials auth.Credentials
	// TLSConfig is used (cloned) for the transport; nil verifies against
	// the system roots. Use auth.TLSConfig for pinned fingerprints. It must
	// be nil when HTTPClient is set (configure that client's transport).
	TLSConfig *tls.Config
	// HTTPClient replaces the go-cleanhttp pooled client built from
	// TLSConfig. It is used as is, never modified.
	HTTPClient *http.Client
	// UserAgent is sent with every request; "" means DefaultUserAgent.
	UserAgent string
	// Retry is the retry policy for idempotent requests; the zero value
	// means the defaults, NoRetry disables retries.
	Retry RetryPolicy
	// Logger receives one debug record per attempt (method, path, status,
	// duration) and a warning per retry; nil logs nothing. Headers, query
	// strings, bodies and secrets are never logged.
	Logger *slog.Logger
	// MaxResponseSize bounds decoded JSON answers; 0 means
	// DefaultMaxResponseSize.
	MaxResponseSize int64
}

// Client sends API requests to one PVE or PBS server. It is safe for
// concurrent use and holds no mutable state besides its connection pool.
type Client struct {
	baseURL   string // https://host:port
	product   auth.Product
	creds     auth.Credentials
	tlsConfig *tls.Config // nil when HTTPClient was given
	http      *http.Client
	userAgent string
	retry     RetryPolicy
	log       *slog.Logger
	maxResp   int64
}

// New checks cfg and returns a client. Errors name the offending setting
// and never contain secrets.
func New(cfg Config) (*Client, error) {
	if cfg.Product != auth.PVE && cfg.Product != auth.PBS {
		return nil, fmt.Errorf("httpapi: Config.Product must be auth.PVE or auth.PBS, got %d", int(cfg.Product))
	}
	base, err := auth.ParseBaseURL(cfg.BaseURL, cfg.Product)
	if err != nil {
		return nil, fmt.Errorf("httpapi: Config.BaseURL: %w", err)
	}
	retry, err := cfg.Retry.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.MaxResponseSize < 0 {
		return nil, errors.New("httpapi: Config.MaxResponseSize must not be negative")
	}
	c := &Client{
		baseURL:   base,
		product:   cfg.Product,
		creds:     cfg.Credentials,
		userAgent: cfg.UserAgent,
		retry:     retry,
		log:       cfg.Logger,
		maxResp:   cfg.MaxResponseSize,
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.maxResp == 0 {
		c.maxResp = DefaultMaxResponseSize
	}
	switch {
	case cfg.HTTPClient != nil && cfg.TLSConfig != nil:
		return nil, errors.New("httpapi: set either Config.HTTPClient or Config.TLSConfig, not both " +
			"(the TLS settings of a custom client belong to its transport)")
	case cfg.HTTPClient != nil:
		c.http = cfg.HTTPClient
	default:
		c.tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.TLSConfig != nil {
			c.tlsConfig = cfg.TLSConfig.Clone()
		}
		tr := cleanhttp.DefaultPooledTransport()
		tr.TLSClientConfig = c.tlsConfig.Clone()
		c.http = &http.Client{
			Transport: tr,
			// API calls are never redirected; following a redirect could
			// carry credentials elsewhere, so a 3xx is returned as is.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return c, nil
}

// BaseURL returns the normalised "https://host:port" (without /api2/json).
func (c *Client) BaseURL() string { return c.baseURL }

// Product returns the server's product.
func (c *Client) Product() auth.Product { return c.product }

// Credentials returns the credentials (nil for unauthenticated clients).
func (c *Client) Credentials() auth.Credentials { return c.creds }

// TLSConfig returns a clone of the TLS configuration of the transport, for
// code that dials its own connections (the PBS backup protocol upgrade);
// nil when Config.HTTPClient was given.
func (c *Client) TLSConfig() *tls.Config {
	if c.tlsConfig == nil {
		return nil
	}
	return c.tlsConfig.Clone()
}

// HTTPClient returns the *http.Client requests go through. Do not modify
// it; it is shared by all users of the Client.
func (c *Client) HTTPClient() *http.Client { return c.http }

// Endpoint returns what credentials need to log in through this client.
func (c *Client) Endpoint() auth.Endpoint {
	return auth.Endpoint{Product: c.product, BaseURL: c.baseURL, Client: c.http}
}

// UserAgent returns the User-Agent sent with every request.
func (c *Client) UserAgent() string { return c.userAgent }
