package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// TicketLifetime is how long a ticket stays valid on both products.
const TicketLifetime = 2 * time.Hour

// DefaultRenewAfter is the ticket age after which Apply renews it, as
// proxmox-backup-client does.
const DefaultRenewAfter = 15 * time.Minute

// ticketSafetyMargin: a ticket older than TicketLifetime minus this margin
// is not used any more (clock skew, request duration).
const ticketSafetyMargin = 5 * time.Minute

// renewRetry is the pause after a renewal that failed for reasons other
// than the server refusing the ticket.
const renewRetry = time.Minute

// maxLoginResponse bounds what is read of a login answer.
const maxLoginResponse = 1 << 20

// TicketOption configures NewTicketCredentials.
type TicketOption func(*Ticket) error

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) TicketOption {
	return func(t *Ticket) error {
		if now == nil {
			return errors.New("auth: WithClock: nil clock")
		}
		t.now = now
		return nil
	}
}

// WithRenewAfter sets the ticket age after which it is renewed (default
// DefaultRenewAfter); it must lie between one second and TicketLifetime
// minus 5 minutes.
func WithRenewAfter(d time.Duration) TicketOption {
	return func(t *Ticket) error {
		if d < time.Second || d > TicketLifetime-ticketSafetyMargin {
			return fmt.Errorf("auth: WithRenewAfter(%v): must be between 1s and %v", d, TicketLifetime-ticketSafetyMargin)
		}
		t.renewAfter = d
		return nil
	}
}

// Ticket is a password login session (ticket + CSRF prevention token). It
// implements Credentials: the first Apply logs in with POST
// /api2/json/access/ticket through Endpoint.Client; later calls reuse the
// ticket and renew it (posting the ticket as password) once it is older
// than the renew interval, falling back to the password when renewal is
// refused. One login runs at a time; other callers wait for it (or for
// their context). Safe for concurrent use.
//
// Requests get the cookie PVEAuthCookie or PBSAuthCookie, and every
// non-GET request the CSRFPreventionToken header; an API token header on
// the request is removed. Two-factor logins are not supported.
// Endpoint.Client must send requests as they are (it must not call Apply
// itself). The ticket belongs to one endpoint: applying it for another
// base URL or product logs in there and forgets the first session.
type Ticket struct {
	user       Userid
	password   Secret
	now        func() time.Time
	renewAfter time.Duration

	login chan struct{} // one token: held while logging in

	mu   sync.Mutex // guards sess
	sess *session
}

type session struct {
	product Product
	baseURL string
	ticket  Secret
	csrf    Secret
	issued  time.Time // when the login that produced the ticket was sent
	renewAt time.Time // when to try renewing it
}

// NewTicketCredentials returns password credentials for user. No request
// is made until the first Apply (or Login).
func NewTicketCredentials(user Userid, password Secret, opts ...TicketOption) (*Ticket, error) {
	if user.IsZero() {
		return nil, idErr("user id", "", "empty")
	}
	if password.IsZero() {
		return nil, &MissingSecretError{AuthID: user.Authid()}
	}
	t := &Ticket{
		user:       user,
		password:   password,
		now:        time.Now,
		renewAfter: DefaultRenewAfter,
		login:      make(chan struct{}, 1),
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// AuthID returns the user id.
func (t *Ticket) AuthID() Authid { return t.user.Authid() }

// String describes the credentials without secrets.
func (t *Ticket) String() string { return "ticket login for " + t.user.String() }

// GoString describes the credentials without secrets.
func (t *Ticket) GoString() string { return fmt.Sprintf("&auth.Ticket{user: %q}", t.user.String()) }

// Apply adds the ticket cookie (and on non-GET requests the CSRF token),
// logging in or renewing first when needed.
func (t *Ticket) Apply(ctx context.Context, req *http.Request, ep Endpoint) error {
	s, err := t.current(ctx, ep)
	if err != nil {
		return err
	}
	name := pveTicketCookie
	enc := pveEncode
	if s.product == PBS {
		name, enc = pbsTicketCookie, pbsEncode
	}
	removeTokenHeader(req.Header)
	removeTicketCookies(req.Header)
	cookie := name + "=" + percentEncode(s.ticket.Reveal(), enc)
	if old := req.Header.Get("Cookie"); old != "" {
		cookie = old + "; " + cookie
	}
	req.Header.Set("Cookie", cookie)
	if req.Method != http.MethodGet && req.Method != "" {
		req.Header.Set(csrfHeader, s.csrf.Reveal())
	} else {
		req.Header.Del(csrfHeader)
	}
	return nil
}

// Login logs in now (or renews a ticket that is due), so that wrong
// passwords surface before the first real request.
func (t *Ticket) Login(ctx context.Context, ep Endpoint) error {
	_, err := t.current(ctx, ep)
	return err
}

// Invalidate forgets the ticket, so that the next Apply logs in with the
// password again; call it when the server answered 401 to a ticket request.
func (t *Ticket) Invalidate() {
	t.mu.Lock()
	t.sess = nil
	t.mu.Unlock()
}

// fresh returns the session if it belongs to ep and is younger than the
// renew interval.
func (t *Ticket) fresh(ep Endpoint) (*session, *session) {
	t.mu.Lock()
	s := t.sess
	t.mu.Unlock()
	if s == nil || s.product != ep.Product || s.baseURL != trimBase(ep.BaseURL) {
		return nil, nil
	}
	if t.now().Before(s.renewAt) {
		return s, s
	}
	return nil, s
}

func (t *Ticket) current(ctx context.Context, ep Endpoint) (*session, error) {
	if s, _ := t.fresh(ep); s != nil {
		return s, nil
	}
	select {
	case t.login <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-t.login }()

	// Someone else may have logged in while we waited.
	s, old := t.fresh(ep)
	if s != nil {
		return s, nil
	}
	if old != nil && t.now().Sub(old.issued) < TicketLifetime-ticketSafetyMargin {
		s, err := t.post(ctx, ep, old.ticket)
		if err == nil {
			t.store(s)
			return s, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		var le *LoginError
		if !errors.As(err, &le) || le.StatusCode != http.StatusUnauthorized && le.StatusCode != http.StatusForbidden {
			// Renewal could not be done right now (network, server
			// error); the old ticket is still valid for a while. Try
			// again in a minute, not on every request.
			retry := *old
			retry.renewAt = minTime(t.now().Add(renewRetry), old.issued.Add(TicketLifetime-ticketSafetyMargin))
			t.store(&retry)
			return &retry, nil
		}
		// The ticket was refused: log in with the password below.
	}
	s, err := t.post(ctx, ep, t.password)
	if err != nil {
		return nil, err
	}
	t.store(s)
	return s, nil
}

func (t *Ticket) store(s *session) {
	t.mu.Lock()
	t.sess = s
	t.mu.Unlock()
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func trimBase(u string) string { return strings.TrimRight(u, "/") }

// post sends one login (password may be the current ticket) and returns
// the new session.
func (t *Ticket) post(ctx context.Context, ep Endpoint, password Secret) (*session, error) {
	fail := func(status int, msg string, err error) error {
		return &LoginError{Product: ep.Product, User: t.user, StatusCode: status,
			Message: scrub(msg, t.password, password), Err: err}
	}
	if ep.Client == nil {
		return nil, fail(0, "Endpoint.Client is nil", nil)
	}
	base := trimBase(ep.BaseURL)
	if base == "" {
		return nil, fail(0, "Endpoint.BaseURL is empty", nil)
	}
	var body, ctype string
	switch ep.Product {
	case PVE:
		body = url.Values{"username": {t.user.String()}, "password": {password.Reveal()}}.Encode()
		ctype = "application/x-www-form-urlencoded"
	case PBS:
		b, err := json.Marshal(map[string]string{"username": t.user.String(), "password": password.Reveal()})
		if err != nil {
			return nil, fail(0, "encoding the login request failed", nil)
		}
		body, ctype = string(b), "application/json"
	default:
		return nil, fail(0, fmt.Sprintf("unknown product %d", int(ep.Product)), nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api2/json/access/ticket", strings.NewReader(body))
	if err != nil {
		return nil, fail(0, "building the login request failed", nil)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	issued := t.now()
	resp, err := ep.Client.Do(req)
	if err != nil {
		return nil, fail(0, "", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxLoginResponse))
	if err != nil {
		return nil, fail(resp.StatusCode, "reading the login answer failed", err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fail(resp.StatusCode, failureText(resp, raw), nil)
	}
	var answer struct {
		Data *struct {
			Ticket  string          `json:"ticket"`
			CSRF    string          `json:"CSRFPreventionToken"`
			NeedTFA json.RawMessage `json:"NeedTFA"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil || answer.Data == nil || answer.Data.Ticket == "" {
		return nil, fail(resp.StatusCode, "the answer holds no ticket", nil)
	}
	d := answer.Data
	if tfa := strings.TrimSpace(string(d.NeedTFA)); tfa != "" && tfa != "0" && tfa != "null" && tfa != "false" ||
		strings.Contains(d.Ticket, "!tfa!") {
		return nil, &LoginError{Product: ep.Product, User: t.user, StatusCode: resp.StatusCode, TFARequired: true,
			Message: "the account requires a second factor, which ticket credentials do not support; use an API token"}
	}
	if d.CSRF == "" {
		return nil, fail(resp.StatusCode, "the answer holds no CSRFPreventionToken", nil)
	}
	return &session{product: ep.Product, baseURL: base, ticket: NewSecret(d.Ticket), csrf: NewSecret(d.CSRF),
		issued: issued, renewAt: issued.Add(t.renewAfter)}, nil
}

// failureText extracts the server's explanation: PVE's reason phrase (and
// JSON "message"), PBS's plain-text body.
func failureText(resp *http.Response, body []byte) string {
	reason := strings.TrimSpace(strings.TrimPrefix(resp.Status, fmt.Sprint(resp.StatusCode)))
	var j struct {
		Message string `json:"message"`
	}
	text := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &j) == nil {
		text = strings.TrimSpace(j.Message)
	} else if strings.HasPrefix(text, "{") || strings.HasPrefix(text, "<") {
		text = ""
	}
	if len(text) > 200 {
		text = strings.ToValidUTF8(text[:200], "") + "…"
	}
	switch {
	case text == "" || text == reason:
		return reason
	case reason == "" || reason == http.StatusText(resp.StatusCode):
		return text
	default:
		return reason + ": " + text
	}
}

// scrub removes secret values from a server-provided text.
func scrub(msg string, secrets ...Secret) string {
	for _, s := range secrets {
		if v := s.Reveal(); v != "" {
			msg = strings.ReplaceAll(msg, v, redacted)
		}
	}
	return msg
}

// LoginError reports a failed ticket login or renewal. It never contains
// the password or ticket. It matches ErrLoginFailed and unwraps to the
// transport error, if any (for example a *FingerprintMismatchError).
type LoginError struct {
	Product     Product
	User        Userid
	StatusCode  int    // HTTP status, 0 when the server gave no answer
	Message     string // the server's explanation or what went wrong
	TFARequired bool   // the account needs a second factor
	Err         error  // transport error, if any
}

// Error implements error.
func (e *LoginError) Error() string {
	msg := fmt.Sprintf("%s login as %s failed", e.Product, e.User)
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(": HTTP %d", e.StatusCode)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrLoginFailed) true.
func (e *LoginError) Is(target error) bool { return target == ErrLoginFailed }

// Unwrap returns the transport error.
func (e *LoginError) Unwrap() error { return e.Err }

var (
	_ Credentials = (*Ticket)(nil)
	_ Invalidator = (*Ticket)(nil)
	_ Credentials = Token{}
)
