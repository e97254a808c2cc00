package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/proxkit/proxkit/auth"
)

const formContentType = "application/x-www-form-urlencoded"

// Request is one API call.
type Request struct {
	// Method is the HTTP method; "" means GET.
	Method string
	// Path is relative to /api2/json, with each id escaped (JoinPath,
	// PathEscape): "/access/users/alice@pbs/token/backup".
	Path string
	// Params are the call's parameters: nil, Values, *Values, url.Values,
	// or a struct (or pointer to one) encoded with EncodeParams. They go
	// into the query string for GET, HEAD and DELETE and whenever Body is
	// set; otherwise into an application/x-www-form-urlencoded body (which
	// both products accept; no JSON body is ever sent with parameters).
	Params any
	// Body is a raw request body (uploads). It is never closed by the
	// client. A body that implements io.Seeker can be replayed on retry;
	// any other body makes the request non-retryable.
	Body io.Reader
	// ContentType of Body; "" means application/octet-stream.
	ContentType string
	// ContentLength of Body if known; 0 means unknown (computed for
	// seekable bodies).
	ContentLength int64
	// Header holds extra request headers (for example Accept).
	Header http.Header
	// Idempotent allows retries for a method other than GET/HEAD, for
	// calls that are known to be safe to repeat.
	Idempotent bool
	// Stream leaves a 2xx answer's body unread: Response.Body streams it
	// (downloads) and the caller must close it. Error answers are still
	// decoded into *APIError.
	Stream bool
	// Out receives the decoded "data" member of a JSON answer (a pointer,
	// as for json.Unmarshal); nil discards it.
	Out any
}

// Response is a successful answer.
type Response struct {
	StatusCode int
	Header     http.Header
	// Digest is the top-level "digest" next to "data" (PBS: SHA-256 of the
	// configuration the data was read from; pass it back on updates for
	// optimistic locking). "" when absent.
	Digest string
	// Total is the top-level "total" some PVE list calls add; 0 when absent.
	Total int64
	// Attributes holds every top-level member other than "data" (digest
	// and total included), undecoded.
	Attributes map[string]json.RawMessage
	// Body streams the answer when Request.Stream was set; the caller must
	// close it. Nil otherwise.
	Body io.ReadCloser
	// Attempts is how many times the request was sent.
	Attempts int
}

// Get calls GET path with params in the query string and decodes "data"
// into out (nil discards it).
func (c *Client) Get(ctx context.Context, path string, params, out any) error {
	return c.call(ctx, http.MethodGet, path, params, out)
}

// Post calls POST path with params as a form body and decodes "data"
// into out (nil discards it). It is not retried.
func (c *Client) Post(ctx context.Context, path string, params, out any) error {
	return c.call(ctx, http.MethodPost, path, params, out)
}

// Put calls PUT path with params as a form body and decodes "data" into
// out (nil discards it). It is not retried.
func (c *Client) Put(ctx context.Context, path string, params, out any) error {
	return c.call(ctx, http.MethodPut, path, params, out)
}

// Delete calls DELETE path with params in the query string and decodes
// "data" into out (nil discards it). It is not retried.
func (c *Client) Delete(ctx context.Context, path string, params, out any) error {
	return c.call(ctx, http.MethodDelete, path, params, out)
}

func (c *Client) call(ctx context.Context, method, path string, params, out any) error {
	_, err := c.Do(ctx, Request{Method: method, Path: path, Params: params, Out: out})
	return err
}

// prepared is a Request checked and encoded once, sent once per attempt.
type prepared struct {
	method, path string
	query        string
	body         *replayBody
	ctype        string
	header       http.Header
	secrets      []string
	stream       bool
}

func (c *Client) prepare(r Request) (*prepared, error) {
	p := &prepared{method: strings.ToUpper(r.Method), header: r.Header, stream: r.Stream}
	if p.method == "" {
		p.method = http.MethodGet
	}
	path, err := checkPath(r.Path)
	if err != nil {
		return nil, err
	}
	p.path = path
	vals, err := toValues(c.product, r.Params)
	if err != nil {
		return nil, err
	}
	p.secrets = vals.secrets()
	encoded := vals.Encode(c.product)
	switch {
	case r.Body != nil:
		p.query = encoded
		p.ctype = r.ContentType
		if p.ctype == "" {
			p.ctype = "application/octet-stream"
		}
		p.body = newReplayBody(r.Body, r.ContentLength)
	case p.method == http.MethodGet || p.method == http.MethodHead || p.method == http.MethodDelete:
		p.query = encoded
	default:
		p.body = newBytesBody([]byte(encoded))
		p.ctype = formContentType
	}
	return p, nil
}

// toValues accepts the Params types documented on Request.
func toValues(p auth.Product, params any) (Values, error) {
	switch v := params.(type) {
	case nil:
		return Values{}, nil
	case Values:
		return v, nil
	case *Values:
		if v == nil {
			return Values{}, nil
		}
		return *v, nil
	case url.Values:
		var out Values
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if len(v[k]) == 1 {
				out.Set(k, v[k][0])
			} else {
				out.SetList(k, v[k])
			}
		}
		return out, nil
	}
	return EncodeParams(p, params)
}

// url returns the full URL of an API path plus query.
func (c *Client) url(path, query string) string {
	u := c.baseURL + APIPrefix + path
	if query != "" {
		u += "?" + query
	}
	return u
}

// NewHTTPRequest builds the *http.Request for r as Do would send it,
// credentials applied, without sending it: for callers that need the raw
// exchange (the PBS protocol upgrade). Check the answer with
// CheckResponse. Credentials may log in first (ticket), which is I/O.
func (c *Client) NewHTTPRequest(ctx context.Context, r Request) (*http.Request, error) {
	p, err := c.prepare(r)
	if err != nil {
		return nil, err
	}
	return c.build(ctx, p)
}

// build makes the HTTP request of one attempt.
func (c *Client) build(ctx context.Context, p *prepared) (*http.Request, error) {
	var body io.Reader
	length := int64(0)
	if p.body != nil {
		b, n, err := p.body.open()
		if err != nil {
			return nil, fmt.Errorf("httpapi: %s %s: rewinding the request body: %w", p.method, p.path, err)
		}
		body, length = b, n
	}
	req, err := http.NewRequestWithContext(ctx, p.method, c.url(p.path, p.query), body)
	if err != nil {
		return nil, fmt.Errorf("httpapi: %s %s: %w: %w", p.method, p.path, ErrInvalidRequest, err)
	}
	if p.body != nil {
		// Wrapped so that the transport never closes the caller's reader.
		req.Body = io.NopCloser(body)
		req.ContentLength = length
		if length == 0 && p.body.known {
			req.Body = http.NoBody
		}
		req.GetBody = nil
	}
	for k, vs := range p.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if p.ctype != "" {
		req.Header.Set("Content-Type", p.ctype)
	}
	if req.Header.Get("Accept") == "" && !p.stream {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", c.userAgent)
	if c.creds != nil {
		if err := c.creds.Apply(ctx, req, c.Endpoint()); err != nil {
			return nil, fmt.Errorf("httpapi: %s %s: applying credentials: %w", p.method, p.path, err)
		}
	}
	return req, nil
}

// isIdempotent: methods that may be repeated without changing the result.
func isIdempotent(method string, marked bool) bool {
	return marked || method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}
