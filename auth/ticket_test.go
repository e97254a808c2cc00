package auth

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type ticketRig struct {
	ts    *ticketServer
	clock *fakeClock
	ep    Endpoint
}

func newTicketRig(t *testing.T, p Product) *ticketRig {
	clock := newFakeClock()
	ts := newTicketServer(t, p, clock)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: mustTLS(t, ts)}, Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	return &ticketRig{ts: ts, clock: clock, ep: Endpoint{Product: p, BaseURL: ts.srv.URL, Client: client}}
}

func mustTLS(t *testing.T, ts *ticketServer) *tls.Config {
	fp := FingerprintOf(ts.srv.Certificate())
	c, err := TLSConfig(WithFingerprint(&fp))
	require.NoError(t, err)
	return c
}

// call sends method to the protected endpoint with creds applied.
func (r *ticketRig) call(t *testing.T, creds Credentials, method string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, r.ep.BaseURL+"/api2/json/check", nil)
	require.NoError(t, err)
	require.NoError(t, creds.Apply(context.Background(), req, r.ep))
	resp, err := r.ep.Client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func userFor(p Product) Userid {
	if p == PBS {
		return MustParseUserid("alice@pbs")
	}
	return MustParseUserid("alice@pve")
}

func TestTicketLoginAndCSRF(t *testing.T) {
	for _, p := range []Product{PVE, PBS} {
		t.Run(p.String(), func(t *testing.T) {
			rig := newTicketRig(t, p)
			creds, err := NewTicketCredentials(userFor(p), NewSecret("correct horse"), WithClock(rig.clock.Now))
			require.NoError(t, err)
			assert.Equal(t, userFor(p).Authid(), creds.AuthID())

			for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodGet} {
				code, body := rig.call(t, creds, m)
				assert.Equal(t, http.StatusOK, code, body)
				assert.Contains(t, body, `"method":"`+m+`"`)
			}
			assert.EqualValues(t, 1, rig.ts.logins.Load(), "one login for all requests")
			assert.EqualValues(t, 5, rig.ts.checked.Load())
		})
	}
}

func TestTicketRequestCarriesOnlyTheTicket(t *testing.T) {
	rig := newTicketRig(t, PVE)
	creds, err := NewTicketCredentials(userFor(PVE), NewSecret("correct horse"), WithClock(rig.clock.Now))
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodPost, rig.ep.BaseURL+"/api2/json/check", nil)
	req.Header.Set("Authorization", "PVEAPIToken=a@pve!t=x")
	req.Header.Set("Cookie", "lang=de; PVEAuthCookie=stale")
	require.NoError(t, creds.Apply(context.Background(), req, rig.ep))
	assert.Empty(t, req.Header.Get("Authorization"))
	assert.Len(t, req.Header.Values("Cookie"), 1)
	assert.True(t, strings.HasPrefix(req.Header.Get("Cookie"), "lang=de; PVEAuthCookie=PVE:alice@pve:"), req.Header.Get("Cookie"))
	resp, err := rig.ep.Client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// A GET loses a CSRF header left over from an earlier use of the request.
	req2, _ := http.NewRequest(http.MethodGet, rig.ep.BaseURL+"/api2/json/check", nil)
	req2.Header.Set("CSRFPreventionToken", "old")
	require.NoError(t, creds.Apply(context.Background(), req2, rig.ep))
	assert.Empty(t, req2.Header.Get("CSRFPreventionToken"))
}

func TestTicketRenewal(t *testing.T) {
	for _, p := range []Product{PVE, PBS} {
		t.Run(p.String(), func(t *testing.T) {
			rig := newTicketRig(t, p)
			creds, err := NewTicketCredentials(userFor(p), NewSecret("correct horse"), WithClock(rig.clock.Now))
			require.NoError(t, err)
			require.NoError(t, creds.Login(context.Background(), rig.ep))
			require.EqualValues(t, 1, rig.ts.logins.Load())

			rig.clock.Advance(14 * time.Minute)
			code, _ := rig.call(t, creds, http.MethodPost)
			assert.Equal(t, http.StatusOK, code)
			assert.EqualValues(t, 0, rig.ts.renewals.Load(), "young ticket reused")

			rig.clock.Advance(2 * time.Minute)
			code, _ = rig.call(t, creds, http.MethodPost)
			assert.Equal(t, http.StatusOK, code)
			assert.EqualValues(t, 1, rig.ts.renewals.Load(), "renewed after 15 minutes with the ticket")
			assert.EqualValues(t, 1, rig.ts.logins.Load(), "no second password login")

			// Keep renewing across more than the 2 h lifetime.
			for i := 0; i < 10; i++ {
				rig.clock.Advance(20 * time.Minute)
				code, _ = rig.call(t, creds, http.MethodGet)
				require.Equal(t, http.StatusOK, code)
			}
			assert.EqualValues(t, 11, rig.ts.renewals.Load())
			assert.EqualValues(t, 1, rig.ts.logins.Load())

			// Idle beyond the lifetime: the password is used again.
			rig.clock.Advance(3 * time.Hour)
			code, _ = rig.call(t, creds, http.MethodGet)
			assert.Equal(t, http.StatusOK, code)
			assert.EqualValues(t, 2, rig.ts.logins.Load())
		})
	}
}

func TestTicketRenewalRefusedFallsBackToPassword(t *testing.T) {
	rig := newTicketRig(t, PBS)
	creds, err := NewTicketCredentials(userFor(PBS), NewSecret("correct horse"), WithClock(rig.clock.Now), WithRenewAfter(time.Minute))
	require.NoError(t, err)
	require.NoError(t, creds.Login(context.Background(), rig.ep))
	rig.ts.rotateKey() // the server forgets every ticket
	rig.clock.Advance(2 * time.Minute)
	code, _ := rig.call(t, creds, http.MethodPost)
	assert.Equal(t, http.StatusOK, code)
	assert.EqualValues(t, 2, rig.ts.logins.Load())
	assert.EqualValues(t, 1, rig.ts.failures.Load(), "the stale ticket was refused once")
}

func TestTicketRenewalUnreachableKeepsTicket(t *testing.T) {
	rig := newTicketRig(t, PVE)
	creds, err := NewTicketCredentials(userFor(PVE), NewSecret("correct horse"), WithClock(rig.clock.Now))
	require.NoError(t, err)
	require.NoError(t, creds.Login(context.Background(), rig.ep))
	rig.clock.Advance(20 * time.Minute)

	down := rig.ep
	attempts := 0
	down.Client = doerFunc(func(*http.Request) (*http.Response, error) {
		attempts++
		return nil, fmt.Errorf("connection refused")
	})
	req, _ := http.NewRequest(http.MethodPost, rig.ep.BaseURL+"/api2/json/check", nil)
	require.NoError(t, creds.Apply(context.Background(), req, down), "a failed renewal keeps the still valid ticket")
	require.NoError(t, creds.Apply(context.Background(), req.Clone(context.Background()), down))
	assert.Equal(t, 1, attempts, "no new attempt within a minute")
	rig.clock.Advance(2 * time.Minute)
	require.NoError(t, creds.Apply(context.Background(), req.Clone(context.Background()), down))
	assert.Equal(t, 2, attempts)
	resp, err := rig.ep.Client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

func TestTicketBadPassword(t *testing.T) {
	for _, p := range []Product{PVE, PBS} {
		t.Run(p.String(), func(t *testing.T) {
			rig := newTicketRig(t, p)
			const pw = "wrong-Password-123"
			creds, err := NewTicketCredentials(userFor(p), NewSecret(pw), WithClock(rig.clock.Now))
			require.NoError(t, err)
			req, _ := http.NewRequest(http.MethodGet, rig.ep.BaseURL+"/api2/json/check", nil)
			err = creds.Apply(context.Background(), req, rig.ep)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrLoginFailed)
			var le *LoginError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, http.StatusUnauthorized, le.StatusCode)
			assert.Equal(t, p, le.Product)
			want := map[Product]string{PVE: "authentication failure", PBS: "permission check failed."}[p]
			assert.Equal(t, want, le.Message)
			assert.Contains(t, err.Error(), userFor(p).String())
			for _, out := range append(formats(err), err.Error(), fmt.Sprintf("%+v", le)) {
				assert.NotContains(t, out, pw)
			}
			assert.Empty(t, req.Header.Get("Cookie"))
		})
	}
}

func TestTicketTFANotSupported(t *testing.T) {
	for _, p := range []Product{PVE, PBS} {
		rig := newTicketRig(t, p)
		rig.ts.needTFA = true
		creds, err := NewTicketCredentials(userFor(p), NewSecret("correct horse"), WithClock(rig.clock.Now))
		require.NoError(t, err)
		err = creds.Login(context.Background(), rig.ep)
		var le *LoginError
		require.ErrorAs(t, err, &le, p)
		assert.True(t, le.TFARequired)
		assert.Contains(t, err.Error(), "second factor")
	}
}

func TestTicketConcurrentApplyLogsInOnce(t *testing.T) {
	rig := newTicketRig(t, PBS)
	hold := make(chan struct{})
	rig.ts.mu.Lock()
	rig.ts.hold = hold
	rig.ts.mu.Unlock()
	creds, err := NewTicketCredentials(userFor(PBS), NewSecret("correct horse"), WithClock(rig.clock.Now))
	require.NoError(t, err)

	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, rig.ep.BaseURL+"/api2/json/check", nil)
			errs <- creds.Apply(context.Background(), req, rig.ep)
		}()
	}
	// A caller whose context ends while another logs in gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequest(http.MethodGet, rig.ep.BaseURL+"/api2/json/check", nil)
	time.Sleep(20 * time.Millisecond)
	assert.ErrorIs(t, creds.Apply(ctx, req, rig.ep), context.DeadlineExceeded)

	close(hold)
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.EqualValues(t, 1, rig.ts.logins.Load())
}

func TestTicketOtherEndpointLogsInAgain(t *testing.T) {
	a := newTicketRig(t, PVE)
	b := newTicketRig(t, PVE)
	b.clock = a.clock
	b.ts.clock = a.clock
	creds, err := NewTicketCredentials(userFor(PVE), NewSecret("correct horse"), WithClock(a.clock.Now))
	require.NoError(t, err)
	code, _ := a.call(t, creds, http.MethodGet)
	assert.Equal(t, http.StatusOK, code)
	code, _ = b.call(t, creds, http.MethodGet)
	assert.Equal(t, http.StatusOK, code)
	assert.EqualValues(t, 1, a.ts.logins.Load())
	assert.EqualValues(t, 1, b.ts.logins.Load())

	creds.Invalidate()
	code, _ = b.call(t, creds, http.MethodGet)
	assert.Equal(t, http.StatusOK, code)
	assert.EqualValues(t, 2, b.ts.logins.Load())
}

func TestTicketOptionsAndErrors(t *testing.T) {
	_, err := NewTicketCredentials(Userid{}, NewSecret("x"))
	assert.ErrorIs(t, err, ErrInvalidID)
	_, err = NewTicketCredentials(RootUserid, Secret{})
	assert.ErrorIs(t, err, ErrMissingSecret)
	assert.Contains(t, err.Error(), "password must be provided")
	_, err = NewTicketCredentials(RootUserid, NewSecret("x"), WithRenewAfter(3*time.Hour))
	assert.Error(t, err)
	_, err = NewTicketCredentials(RootUserid, NewSecret("x"), WithClock(nil))
	assert.Error(t, err)

	creds, err := NewTicketCredentials(RootUserid, NewSecret(testSecret))
	require.NoError(t, err)
	for _, ep := range []Endpoint{
		{Product: PVE, BaseURL: "https://x"},
		{Product: PVE, Client: http.DefaultClient},
		{Product: 7, BaseURL: "https://x", Client: http.DefaultClient},
	} {
		err := creds.Login(context.Background(), ep)
		assert.ErrorIs(t, err, ErrLoginFailed)
		assert.NotContains(t, err.Error(), testSecret)
	}
	for _, out := range formats(creds) {
		assert.NotContains(t, out, testSecret)
	}
	assert.Equal(t, "ticket login for root@pam", creds.String())
}

func TestTicketGarbledAnswer(t *testing.T) {
	for _, body := range []string{`{"data":null}`, `not json`, `{"data":{"ticket":"PVE:x::y"}}`} {
		client := doerFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Status: "200 OK", Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}, nil
		})
		creds, err := NewTicketCredentials(RootUserid, NewSecret(testSecret))
		require.NoError(t, err)
		err = creds.Login(context.Background(), Endpoint{Product: PVE, BaseURL: "https://x", Client: client})
		assert.ErrorIs(t, err, ErrLoginFailed, body)
	}
	// Messages echoing the password are scrubbed.
	client := doerFunc(func(r *http.Request) (*http.Response, error) {
		b, _ := json.Marshal(map[string]any{"data": nil, "message": "bad password " + testSecret})
		return &http.Response{StatusCode: 401, Status: "401 authentication failure", Body: io.NopCloser(strings.NewReader(string(b))), Header: http.Header{}}, nil
	})
	creds, _ := NewTicketCredentials(RootUserid, NewSecret(testSecret))
	err := creds.Login(context.Background(), Endpoint{Product: PVE, BaseURL: "https://x", Client: client})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testSecret)
}
