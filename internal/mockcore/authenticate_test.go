package mockcore

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

// miniMock is the smallest server built the way pvetest and pbstest are:
// accounts with expiry, a ticket endpoint, and one protected endpoint that
// echoes the caller.
type miniMock struct {
	product auth.Product
	clock   *FakeClock
	signer  *TicketSigner
	secrets *SecretStore
	authn   *Authenticator
	mu      sync.Mutex
	expire  map[auth.Authid]int64 // known ids and their expire fields
	srv     *Server
}

func newMiniMock(t *testing.T, p auth.Product) *miniMock {
	m := &miniMock{product: p, clock: NewFakeClock(t0), signer: NewTicketSigner(), secrets: NewSecretStore(), expire: map[auth.Authid]int64{}}
	m.authn = &Authenticator{Product: p, Tickets: m.signer, Secrets: m.secrets, Clock: m.clock.Now,
		Active: func(id auth.Authid, now time.Time) bool {
			m.mu.Lock()
			defer m.mu.Unlock()
			ue, ok := m.expire[id.User().Authid()]
			if !ok || Expired(p, ue, now) {
				return false
			}
			if id.IsToken() {
				te, ok := m.expire[id]
				return ok && !Expired(p, te, now)
			}
			return true
		}}
	notFound := http.HandlerFunc(WritePVENotImplemented)
	if p == auth.PBS {
		notFound = WritePBSNotFound
	}
	rt := NewRouter(APIPrefix, notFound)
	rt.Handle("POST", "/access/ticket", m.login)
	whoami := func(w http.ResponseWriter, r *http.Request) {
		id, err := m.authn.Authenticate(r)
		if err != nil {
			m.authn.WriteFailure(w, r, err)
			return
		}
		if p == auth.PVE {
			WritePVEData(w, r, id.String())
		} else {
			WritePBSData(w, id.String(), nil)
		}
	}
	rt.Handle("GET", "/whoami", whoami)
	rt.Handle("POST", "/whoami", whoami)
	var h http.Handler = rt
	if p == auth.PBS {
		h = PBSPaths(h)
	}
	m.srv = startTestServer(t, StampArrival(h))
	return m
}

func (m *miniMock) login(w http.ResponseWriter, r *http.Request) {
	var ps *Params
	var err error
	if m.product == auth.PVE {
		ps, err = ParsePVEParams(r)
	} else {
		ps, err = ParsePBSParams(r)
	}
	if err == nil {
		ps.Require("username", "password")
		err = ps.Err()
	}
	if err != nil {
		if m.product == auth.PVE {
			WritePVEFailure(w, r, err)
		} else {
			WritePBSFailure(w, err)
		}
		return
	}
	now := m.clock.Now()
	name, pw := ps.StringOr("username", ""), ps.StringOr("password", "")
	user, err := auth.ParseUserid(name)
	ok := err == nil
	if ok && LooksLikeTicket(m.product, pw) {
		var tu auth.Userid
		tu, err = m.signer.Verify(m.product, pw, now)
		ok = err == nil && tu == user
	} else {
		ok = ok && pw == "secret-password"
	}
	ok = ok && m.authn.Active(user.Authid(), now)
	if !ok {
		m.authn.Delay.Wait(r)
		if m.product == auth.PVE {
			WritePVEMessage(w, r, http.StatusUnauthorized, PVELoginFailed)
		} else {
			WritePBSError(w, http.StatusUnauthorized, PBSLoginFailed)
		}
		return
	}
	data := map[string]any{"username": user.String(), "ticket": m.signer.Mint(m.product, user, now), "CSRFPreventionToken": m.signer.CSRFToken(user, now)}
	if m.product == auth.PVE {
		WritePVEData(w, r, data)
	} else {
		WritePBSData(w, data, nil)
	}
}

func (m *miniMock) addUser(id string, expire int64) auth.Authid {
	a := auth.MustParseAuthid(id)
	m.mu.Lock()
	m.expire[a] = expire
	m.mu.Unlock()
	return a
}

type reply struct {
	status string
	body   string
}

func (m *miniMock) do(t *testing.T, method, path string, hdr http.Header, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, m.srv.URL+APIPrefix+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := m.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{resp.Status, string(b)}
}

func TestAuthenticatePVE(t *testing.T) {
	m := newMiniMock(t, auth.PVE)
	m.addUser("alice@pve", 0)
	tok := m.addUser("alice@pve!ci", 0)
	secret := NewTokenSecret()
	m.secrets.Set(tok, secret)
	m.addUser("old@pve", t0.Unix()-1)
	m.addUser("edge@pve", t0.Unix()) // expire == now: still valid on PVE

	okTok := header("Authorization", "PVEAPIToken=alice@pve!ci="+secret)
	assert.Equal(t, reply{"200 OK", `{"data":"alice@pve!ci"}`}, m.do(t, "GET", "/whoami", okTok, ""))
	assert.Equal(t, reply{"200 OK", `{"data":"alice@pve!ci"}`}, m.do(t, "POST", "/whoami", okTok, ""), "tokens need no CSRF")

	noTicket := reply{"401 No ticket", ""}
	failed := reply{"401 Authentication failed!", ""}
	assert.Equal(t, noTicket, m.do(t, "GET", "/whoami", nil, ""))
	assert.Equal(t, noTicket, m.do(t, "GET", "/whoami", header("Authorization", "PBSAPIToken alice@pve!ci:"+secret), ""), "wrong prefix")
	assert.Equal(t, noTicket, m.do(t, "GET", "/whoami", header("Authorization", "Bearer "+secret), ""))
	assert.Equal(t, failed, m.do(t, "GET", "/whoami", header("Authorization", "PVEAPIToken=alice@pve!ci:"+secret), ""), "PBS separator")
	assert.Equal(t, failed, m.do(t, "GET", "/whoami", header("Authorization", "PVEAPIToken=alice@pve!ci="+NewTokenSecret()), ""), "wrong secret")
	assert.Equal(t, failed, m.do(t, "GET", "/whoami", header("Authorization", "PVEAPIToken=alice@pve!other="+secret), ""), "unknown token")
	assert.Equal(t, failed, m.do(t, "GET", "/whoami", header("Authorization", "PVEAPIToken=ci="+secret), ""), "token name alone")

	// Login, then ticket + CSRF.
	login := m.do(t, "POST", "/access/ticket", header("Content-Type", form), "username=alice@pve&password=secret-password")
	require.Equal(t, "200 OK", login.status)
	ticket, csrf := jsonField(t, login.body, "ticket"), jsonField(t, login.body, "CSRFPreventionToken")
	cookie := header("Cookie", "PVEAuthCookie="+url.QueryEscape(ticket))
	assert.Equal(t, reply{"200 OK", `{"data":"alice@pve"}`}, m.do(t, "GET", "/whoami", cookie, ""))
	assert.Equal(t, reply{"401 Permission denied - invalid csrf token", ""}, m.do(t, "POST", "/whoami", cookie, ""))
	bad := header("Cookie", "PVEAuthCookie="+ticket, "CSRFPreventionToken", "6660A1B2:xxxx")
	assert.Equal(t, reply{"401 Permission denied - invalid csrf token", ""}, m.do(t, "POST", "/whoami", bad, ""))
	withCSRF := header("Cookie", "PVEAuthCookie="+ticket, "CSRFPreventionToken", csrf)
	assert.Equal(t, reply{"200 OK", `{"data":"alice@pve"}`}, m.do(t, "POST", "/whoami", withCSRF, ""))

	// Cookie wins over a token header, even a valid one.
	both := header("Cookie", "PVEAuthCookie=garbage", "Authorization", "PVEAPIToken=alice@pve!ci="+secret)
	assert.Equal(t, failed, m.do(t, "GET", "/whoami", both, ""))

	// Failed logins.
	assert.Equal(t, reply{"401 authentication failure", `{"data":null,"message":"authentication failure\n"}`},
		m.do(t, "POST", "/access/ticket", header("Content-Type", form), "username=alice@pve&password=wrong"))
	assert.Equal(t, "401 authentication failure", m.do(t, "POST", "/access/ticket", header("Content-Type", form), "username=old@pve&password=secret-password").status)
	assert.Equal(t, "200 OK", m.do(t, "POST", "/access/ticket", header("Content-Type", form), "username=edge@pve&password=secret-password").status)
	assert.Equal(t, "400 Parameter verification failed.", m.do(t, "POST", "/access/ticket", nil, "username=alice@pve").status)

	// Renewal with the ticket as password; the old ticket expires later.
	m.clock.Advance(TicketLifetime - time.Minute)
	renew := m.do(t, "POST", "/access/ticket", header("Content-Type", form), "username=alice@pve&password="+url.QueryEscape(ticket))
	require.Equal(t, "200 OK", renew.status)
	ticket2 := jsonField(t, renew.body, "ticket")
	m.clock.Advance(2 * time.Minute)
	assert.Equal(t, failed, m.do(t, "GET", "/whoami", cookie, ""), "expired ticket")
	assert.Equal(t, "200 OK", m.do(t, "GET", "/whoami", header("Cookie", "PVEAuthCookie="+ticket2), "").status)

	// User state is checked on every request.
	m.addUser("alice@pve", m.clock.Now().Unix()-1)
	assert.Equal(t, failed, m.do(t, "GET", "/whoami", okTok, ""), "user expired: its tokens fail")
	assert.Equal(t, failed, m.do(t, "GET", "/whoami", header("Cookie", "PVEAuthCookie="+ticket2), ""))

	assert.Equal(t, "501 Method 'GET /nothing' not implemented", m.do(t, "GET", "/nothing", okTok, "").status)
}

func TestAuthenticatePBS(t *testing.T) {
	m := newMiniMock(t, auth.PBS)
	m.addUser("alice@pbs", 0)
	tok := m.addUser("alice@pbs!ci", 0)
	secret := NewTokenSecret()
	m.secrets.Set(tok, secret)
	m.addUser("edge@pbs", t0.Unix()) // expire == now: already expired on PBS

	failed := reply{"401 Unauthorized", "authentication failed"}
	space := header("Authorization", "PBSAPIToken alice@pbs!ci:"+secret)
	assert.Equal(t, reply{"200 OK", `{"data":"alice@pbs!ci"}`}, m.do(t, "GET", "/whoami", space, ""))
	assert.Equal(t, reply{"200 OK", `{"data":"alice@pbs!ci"}`}, m.do(t, "POST", "/whoami", header("Authorization", "PBSAPIToken=alice@pbs!ci:"+secret), ""))
	for name, h := range map[string]http.Header{
		"nothing":       nil,
		"PVE separator": header("Authorization", "PBSAPIToken=alice@pbs!ci="+secret),
		"PVE prefix":    header("Authorization", "PVEAPIToken=alice@pbs!ci="+secret),
		"wrong secret":  header("Authorization", "PBSAPIToken alice@pbs!ci:"+NewTokenSecret()),
		"user id":       header("Authorization", "PBSAPIToken alice@pbs:secret-password"),
		"cookie wins":   header("Cookie", "PBSAuthCookie=garbage", "Authorization", "PBSAPIToken alice@pbs!ci:"+secret),
	} {
		assert.Equal(t, failed, m.do(t, "GET", "/whoami", h, ""), name)
	}

	// JSON login as the reference client sends it; both cookie names.
	login := m.do(t, "POST", "/access/ticket", header("Content-Type", "application/json"), `{"username":"alice@pbs","password":"secret-password"}`)
	require.Equal(t, "200 OK", login.status)
	ticket, csrf := jsonField(t, login.body, "ticket"), jsonField(t, login.body, "CSRFPreventionToken")
	assert.True(t, strings.HasPrefix(ticket, "PBS:alice@pbs:"))
	for _, name := range []string{PBSTicketCookie, PBSHostCookie} {
		c := header("Cookie", name+"="+ticket)
		assert.Equal(t, reply{"200 OK", `{"data":"alice@pbs"}`}, m.do(t, "GET", "/whoami", c, ""), name)
		assert.Equal(t, failed, m.do(t, "POST", "/whoami", c, ""), name+" without CSRF")
		c.Set("CSRFPreventionToken", csrf)
		assert.Equal(t, reply{"200 OK", `{"data":"alice@pbs"}`}, m.do(t, "POST", "/whoami", c, ""), name+" with CSRF")
	}
	assert.Equal(t, reply{"401 Unauthorized", "permission check failed."},
		m.do(t, "POST", "/access/ticket", header("Content-Type", "application/json"), `{"username":"edge@pbs","password":"secret-password"}`))
	assert.Equal(t, "404 Not Found", m.do(t, "GET", "/nothing", space, "").status)

	m.clock.Advance(TicketLifetime + time.Second)
	assert.Equal(t, failed, m.do(t, "GET", "/whoami", header("Cookie", "PBSAuthCookie="+ticket), ""))
	m.clock.Set(t0.Add(-TicketFutureSkew - time.Second))
	assert.Equal(t, failed, m.do(t, "GET", "/whoami", header("Cookie", "PBSAuthCookie="+ticket), ""))
}

func TestAuthenticatorMisconfigured(t *testing.T) {
	r := request("GET", "/", "", "")
	r.Header.Set("Cookie", "PVEAuthCookie=x")
	a := &Authenticator{Product: auth.PVE}
	_, err := a.Authenticate(r)
	assert.ErrorIs(t, err, ErrAuthFailed)
	r = request("GET", "/", "", "")
	r.Header.Set("Authorization", "PVEAPIToken=a@pve!ci=x")
	_, err = a.Authenticate(r)
	assert.ErrorIs(t, err, ErrAuthFailed, "nil Active admits nobody")
}

func TestAuthFailureDelay(t *testing.T) {
	m := newMiniMock(t, auth.PVE)
	m.authn.Delay = AuthFailureDelay(150 * time.Millisecond)
	start := time.Now()
	assert.Equal(t, "401 No ticket", m.do(t, "GET", "/whoami", nil, "").status)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)

	// Measured from arrival: time already spent counts.
	r := request("GET", "/", "", "")
	r = r.WithContext(contextWithArrival(r, time.Now().Add(-time.Hour)))
	start = time.Now()
	AuthFailureDelay(time.Hour).Wait(r)
	assert.Less(t, time.Since(start), time.Second)

	// The request's context ends the wait.
	r = request("GET", "/", "", "")
	ctx, cancel := contextWithCancel(r)
	cancel()
	start = time.Now()
	AuthFailureDelay(time.Hour).Wait(r.WithContext(ctx))
	assert.Less(t, time.Since(start), time.Second)

	AuthFailureDelay(0).Wait(r) // no delay, no arrival needed
	_, ok := ArrivalTime(r)
	assert.False(t, ok)
}
