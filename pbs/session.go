package pbs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/proxkit/proxkit/internal/h2upgrade"
	"github.com/proxkit/proxkit/internal/httpapi"
)

// Content types of session requests (pbs-protocol.md 3.2): parameters in
// the query string, raw uploads, and the JSON body of index appends.
const (
	formType   = h2upgrade.FormContentType
	octetType  = "application/octet-stream"
	jsonType   = "application/json"
	maxJSONLen = 1 << 20 // session calls answer with tiny JSON documents
)

// session is one upgraded connection of a backup or reader session: it
// sends calls and turns their answers into values or into the package's
// errors (*Error for refusals, *SessionError for calls without answer).
type session struct {
	conn *h2upgrade.Conn
	api  *httpapi.Client // decodes error answers exactly as the REST calls do
}

// send performs one call and returns its 2xx response with the body still
// to be read. body may be nil.
func (s *session) send(ctx context.Context, method, path string, q url.Values, ctype string, body []byte) (*http.Response, error) {
	obs, _ := ctx.Value(observerKey{}).(func(callEvent))
	if obs != nil {
		obs(callEvent{Method: method, Path: path, Query: q, ContentType: ctype, Body: body})
	}
	resp, err := s.roundTrip(ctx, method, path, q, ctype, body)
	if obs != nil {
		obs(callEvent{Method: method, Path: path, Query: q, Done: true, Err: err})
	}
	return resp, err
}

func (s *session) roundTrip(ctx context.Context, method, path string, q url.Values, ctype string, body []byte) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	resp, err := s.conn.Do(ctx, method, path, q, ctype, r)
	if err != nil {
		return nil, &SessionError{Method: method, Path: path, Err: s.cause(ctx, err)}
	}
	if err := s.api.CheckResponse(resp); err != nil {
		return nil, wrapError(err)
	}
	return resp, nil
}

// observerKey holds, in a request's context, a func(callEvent) that sees
// every session call before it is sent and once it is answered. Only the
// package's tests install one, to check the calls on the wire.
type observerKey struct{}

// callEvent is one call as an observer sees it.
type callEvent struct {
	Method, Path string
	Query        url.Values
	ContentType  string
	Body         []byte
	Done         bool  // the answer arrived (or the call failed)
	Err          error // with Done: the call's error
}

// answer performs one call and returns its JSON answer undecoded.
func (s *session) answer(ctx context.Context, method, path string, q url.Values, ctype string, body []byte) ([]byte, error) {
	resp, err := s.send(ctx, method, path, q, ctype, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := readAnswer(resp, nil, maxJSONLen)
	if err != nil {
		return nil, &SessionError{Method: method, Path: path, Err: s.bodyCause(ctx, err)}
	}
	return raw, nil
}

// call performs one call and decodes its answer with decode, which sees
// the JSON answer; a decoding error becomes a *SessionError naming the
// call. A nil decode only checks the {"data": ...} envelope.
func (s *session) call(ctx context.Context, method, path string, q url.Values, ctype string, body []byte, decode func([]byte) error) error {
	raw, err := s.answer(ctx, method, path, q, ctype, body)
	if err != nil {
		return err
	}
	if decode == nil {
		decode = decodeNull
	}
	if err := decode(raw); err != nil {
		return &SessionError{Method: method, Path: path, Err: err}
	}
	return nil
}

// download performs a GET whose answer is raw bytes (a file, a chunk),
// appending them to dst[:0]. Answers longer than limit are refused.
func (s *session) download(ctx context.Context, path string, q url.Values, dst []byte, limit int64) ([]byte, error) {
	resp, err := s.send(ctx, http.MethodGet, path, q, formType, nil)
	if err != nil {
		return dst[:0], err
	}
	defer resp.Body.Close()
	out, err := readAnswer(resp, dst, limit)
	if err != nil {
		return out, &SessionError{Method: http.MethodGet, Path: path, Err: s.bodyCause(ctx, err)}
	}
	return out, nil
}

// readAnswer reads a response body into dst[:0], at most limit bytes.
// An announced length is read into a buffer that takes it and the final
// read that sees the end (bytes.Buffer wants MinRead bytes of room for
// every read): one allocation, never a doubling copy at the end.
func readAnswer(resp *http.Response, dst []byte, limit int64) ([]byte, error) {
	dst = dst[:0]
	if n := resp.ContentLength; n > limit {
		return dst, fmt.Errorf("%w: %d bytes announced, at most %d expected", ErrResponseTooLarge, n, limit)
	} else if n > 0 && int64(cap(dst)) < n+bytes.MinRead {
		dst = make([]byte, 0, n+bytes.MinRead)
	}
	buf := bytes.NewBuffer(dst)
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return buf.Bytes(), err
	}
	if n > limit {
		return buf.Bytes()[:0], fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
	}
	return buf.Bytes(), nil
}

// cause classifies the error of a call that got no answer. A stream can
// fail with a plain EOF or reset a moment before the transport notices
// that the whole connection is gone, so unless the context ended, it waits
// briefly for that.
func (s *session) cause(ctx context.Context, err error) error {
	if ctx.Err() == nil && !errors.Is(err, h2upgrade.ErrClosed) {
		t := time.NewTimer(closeGrace)
		defer t.Stop()
		select {
		case <-s.conn.Done():
			return &closedError{err: fmt.Errorf("%w: %w", s.conn.Err(), err)}
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return sessionCause(err)
}

// bodyCause classifies the error of reading an answer's body: one that
// was too long as it is, a transport error as cause does. A dropped
// connection can end an answer whose header had arrived with a plain
// unexpected EOF, before the transport has noticed.
func (s *session) bodyCause(ctx context.Context, err error) error {
	if errors.Is(err, ErrResponseTooLarge) {
		return err
	}
	return s.cause(ctx, err)
}

// closeGrace is how long a failed call waits to learn whether the
// connection ended.
const closeGrace = 100 * time.Millisecond

// sessionCause maps the transport's end-of-session error onto
// ErrSessionClosed, keeping the original error reachable.
func sessionCause(err error) error {
	if errors.Is(err, h2upgrade.ErrClosed) && !errors.Is(err, ErrSessionClosed) {
		return &closedError{err: err}
	}
	return err
}

// closedError is a transport error that means the session is gone.
type closedError struct{ err error }

// Error reads "connection closed: <what ended it>", without the
// transport's own prefixes.
func (e *closedError) Error() string {
	msg := e.err.Error()
	if i := strings.LastIndex(msg, h2upgrade.ErrClosed.Error()+": "); i >= 0 {
		msg = msg[i+len(h2upgrade.ErrClosed.Error())+2:]
	}
	return "connection closed: " + msg
}
func (e *closedError) Unwrap() []error {
	return []error{ErrSessionClosed, e.err}
}

// widQuery returns the query of a call addressed to writer wid.
func widQuery(wid int) url.Values {
	return url.Values{"wid": {strconv.Itoa(wid)}}
}
