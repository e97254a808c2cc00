package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/proxkit/proxkit/auth"
)

// Do sends r and returns the answer. A 2xx JSON answer's "data" is
// decoded into r.Out and its siblings (digest, total) are returned in the
// Response; with r.Stream the body is left to the caller. Any other
// answer is an *APIError (errors.Is with ErrNotFound, ErrUnauthorized ...);
// an answer that cannot be decoded is a *DecodeError; no answer at all is
// a *TransportError. Idempotent requests are retried per the client's
// RetryPolicy. A 401 to a ticket request resets session credentials
// (auth.Invalidator) so that the next call logs in again; the failed call
// itself is not repeated. On error the Response is nil.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	p, err := c.prepare(r)
	if err != nil {
		return nil, err
	}
	canRetry := isIdempotent(p.method, r.Idempotent) && p.body.replayable()
	max := c.retry.MaxAttempts
	if !canRetry {
		max = 1
	}
	var lastErr error
	for attempt := 1; ; attempt++ {
		resp, retry, err := c.attempt(ctx, p, r.Out, attempt)
		if err == nil {
			return resp, nil
		}
		lastErr = err
		if !retry || attempt >= max {
			return nil, lastErr
		}
		wait := c.retry.Backoff(attempt - 1)
		var ae *APIError
		if errors.As(err, &ae) && ae.retryAfter > wait {
			wait = min(ae.retryAfter, c.retry.MaxBackoff)
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "proxmox API request failed, retrying",
			slog.String("method", p.method), slog.String("path", p.path),
			slog.Int("attempt", attempt), slog.Duration("backoff", wait), slog.String("error", err.Error()))
		if serr := sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("%s %s %s: gave up after %d attempts: %w; last error: %w",
				c.product, p.method, p.path, attempt, serr, lastErr)
		}
	}
}

// attempt sends p once. retry reports whether the failure is one a retry
// could cure (the caller still checks idempotency and the attempt count).
func (c *Client) attempt(ctx context.Context, p *prepared, out any, n int) (*Response, bool, error) {
	req, err := c.build(ctx, p)
	if err != nil {
		return nil, false, err
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text holds the URL with the query string
		}
		c.logAttempt(ctx, p, n, 0, start, err)
		return nil, retryableTransportError(ctx, err), c.transportError(p, n, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		err := c.checkResponse(resp, p.method, p.path, p.secrets)
		c.logAttempt(ctx, p, n, resp.StatusCode, start, nil)
		var ae *APIError
		return nil, errors.As(err, &ae) && retryableStatus(ae), err
	}
	r := &Response{StatusCode: resp.StatusCode, Header: resp.Header, Attempts: n}
	if p.stream {
		c.logAttempt(ctx, p, n, resp.StatusCode, start, nil)
		r.Body = resp.Body
		return r, false, nil
	}
	defer resp.Body.Close()
	body, err := readLimited(resp.Body, c.maxResp)
	c.logAttempt(ctx, p, n, resp.StatusCode, start, err)
	if errors.Is(err, errTooLarge) {
		return nil, false, c.decodeError(p, resp.StatusCode, fmt.Sprintf("larger than %d bytes", c.maxResp), err)
	}
	if err != nil {
		return nil, retryableTransportError(ctx, err), c.transportError(p, n, err)
	}
	env, reason, err := decodeEnvelope(body, out)
	if reason != "" {
		return nil, false, c.decodeError(p, resp.StatusCode, reason, err)
	}
	r.Digest, r.Total, r.Attributes = env.digest, env.total, env.attrs
	return r, false, nil
}

func (c *Client) transportError(p *prepared, n int, err error) error {
	return &TransportError{Product: c.product, Method: p.method, Path: p.path, Attempts: n, Err: err}
}

func (c *Client) decodeError(p *prepared, status int, reason string, err error) error {
	return &DecodeError{Product: c.product, Method: p.method, Path: p.path, Status: status, Reason: reason, Err: err}
}

func (c *Client) logAttempt(ctx context.Context, p *prepared, n, status int, start time.Time, err error) {
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", p.method), slog.String("path", p.path), slog.Int("attempt", n),
		slog.Int("status", status), slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "proxmox API request", attrs...)
}

// CheckResponse returns nil for a 2xx answer. For any other status it
// reads (a bounded part of) the body, closes it and returns the decoded
// *APIError with a hint, as Do does; for answers to requests built with
// NewHTTPRequest.
func (c *Client) CheckResponse(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	method, path := http.MethodGet, ""
	if resp.Request != nil {
		method = resp.Request.Method
		if resp.Request.URL != nil {
			path = resp.Request.URL.EscapedPath()
			if rest, ok := strings.CutPrefix(path, APIPrefix); ok {
				path = rest
			}
		}
	}
	return c.checkResponse(resp, method, path, nil)
}

// checkResponse decodes a non-2xx answer into an *APIError, adds the hint,
// removes secret values the server may have echoed, and resets session
// credentials on 401.
func (c *Client) checkResponse(resp *http.Response, method, path string, secrets []string) error {
	defer resp.Body.Close()
	// Only the start of an error body matters; a read error still leaves
	// an error answer (with the reason phrase as its message).
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		body = nil
	}
	e := decodeErrorBody(resp.StatusCode, reasonPhrase(resp), body)
	e.Product, e.Method, e.Path = c.product, method, path
	e.retryAfter = retryAfter(resp)

	var reqHeader http.Header
	if resp.Request != nil {
		reqHeader = resp.Request.Header
	}
	scheme := schemeOf(reqHeader)
	inv, reLogins := c.creds.(auth.Invalidator)
	if resp.StatusCode == http.StatusUnauthorized && reLogins && scheme == schemeTicket {
		inv.Invalidate()
	}
	e.Hint = hintFor(hintInput{
		product: c.product, server: dialectOf(resp, e), status: e.Status, text: e.lowerText(),
		path: path, scheme: scheme, creds: c.creds, reLogins: reLogins,
	})
	scrub(e, append(append([]string(nil), secrets...), credentialValues(reqHeader)...))
	return e
}

// reasonPhrase is the text after the code in the status line.
func reasonPhrase(resp *http.Response) string {
	s, _ := strings.CutPrefix(resp.Status, strconv.Itoa(resp.StatusCode))
	return s
}
