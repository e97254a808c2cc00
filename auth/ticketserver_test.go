package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ticketServer implements POST /api2/json/access/ticket of PVE or PBS with
// real checks (method, content type, parameters, password, ticket
// signature and age for renewals) and one protected endpoint,
// /api2/json/check, that accepts only a valid ticket cookie plus, on
// non-GET requests, the matching CSRF token.
type ticketServer struct {
	t       testing.TB
	product Product
	clock   *fakeClock
	srv     *httptest.Server

	mu        sync.Mutex
	passwords map[string]string // user id -> password
	key       []byte            // signs tickets and CSRF tokens
	needTFA   bool
	hold      chan struct{} // when set, logins wait for it to close

	logins   atomic.Int32 // successful password logins
	renewals atomic.Int32 // successful ticket renewals
	failures atomic.Int32 // refused logins
	checked  atomic.Int32 // successful protected requests
}

func newTicketServer(t testing.TB, p Product, clock *fakeClock) *ticketServer {
	ts := &ticketServer{
		t: t, product: p, clock: clock,
		passwords: map[string]string{"alice@pve": "correct horse", "root@pam": "rootpw", "alice@pbs": "correct horse"},
		key:       []byte("server key 1"),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api2/json/access/ticket", ts.handleTicket)
	mux.HandleFunc("/api2/json/check", ts.handleCheck)
	ts.srv = newTLSServer(t, selfSignedCert(t), mux)
	return ts
}

func (ts *ticketServer) prefix() string {
	if ts.product == PBS {
		return "PBS"
	}
	return "PVE"
}

func (ts *ticketServer) sign(data string) string {
	ts.mu.Lock()
	key := ts.key
	ts.mu.Unlock()
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return base64.RawStdEncoding.EncodeToString(m.Sum(nil))
}

func (ts *ticketServer) makeTicket(user string, at time.Time) string {
	data := fmt.Sprintf("%s:%s:%08X", ts.prefix(), user, at.Unix())
	return data + "::" + ts.sign(data)
}

func (ts *ticketServer) makeCSRF(user string, at time.Time) string {
	stamp := fmt.Sprintf("%08X", at.Unix())
	return stamp + ":" + ts.sign("csrf:"+user+":"+stamp)
}

// verifyTicket returns the user of a valid, unexpired ticket.
func (ts *ticketServer) verifyTicket(ticket string) (string, time.Time, bool) {
	data, sig, ok := strings.Cut(ticket, "::")
	if !ok || !hmac.Equal([]byte(sig), []byte(ts.sign(data))) {
		return "", time.Time{}, false
	}
	parts := strings.Split(data, ":")
	if len(parts) != 3 || parts[0] != ts.prefix() {
		return "", time.Time{}, false
	}
	sec, err := strconv.ParseInt(parts[2], 16, 64)
	if err != nil {
		return "", time.Time{}, false
	}
	issued := time.Unix(sec, 0)
	age := ts.clock.Now().Sub(issued)
	if age > TicketLifetime || age < -5*time.Minute {
		return "", time.Time{}, false
	}
	return parts[1], issued, true
}

func (ts *ticketServer) handleTicket(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" {
		ts.t.Errorf("login request carries credentials: %q %q", r.Header.Get("Authorization"), r.Header.Get("Cookie"))
	}
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var user, password string
	switch {
	case ctype == "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		user, password = r.PostForm.Get("username"), r.PostForm.Get("password")
	case ctype == "application/json" && ts.product == PBS:
		var p map[string]string
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		user, password = p["username"], p["password"]
	default:
		ts.t.Errorf("%s login with content type %q", ts.prefix(), ctype)
		http.Error(w, "unsupported content type", http.StatusBadRequest)
		return
	}
	ts.mu.Lock()
	hold := ts.hold
	want, known := ts.passwords[user]
	needTFA := ts.needTFA
	ts.mu.Unlock()
	if hold != nil {
		<-hold
	}

	renewal := false
	if u, _, ok := ts.verifyTicket(password); ok && u == user {
		renewal = true
	} else if !known || password != want {
		ts.failures.Add(1)
		ts.refuse(w)
		return
	}
	now := ts.clock.Now()
	data := map[string]any{"username": user, "ticket": ts.makeTicket(user, now), "CSRFPreventionToken": ts.makeCSRF(user, now)}
	if needTFA {
		if ts.product == PVE {
			data["NeedTFA"] = 1
		} else {
			data["ticket"] = ts.makeTicket("!tfa!"+user, now)
			data["CSRFPreventionToken"] = "invalid"
		}
	}
	if renewal {
		ts.renewals.Add(1)
	} else {
		ts.logins.Add(1)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
}

// refuse answers a failed login the way each product does: PVE with the
// reason phrase "authentication failure" and a JSON body, PBS with a plain
// text body.
func (ts *ticketServer) refuse(w http.ResponseWriter) {
	if ts.product == PBS {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("permission check failed."))
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		ts.t.Errorf("hijack: %v", err)
		return
	}
	defer conn.Close()
	body := `{"data":null,"message":"authentication failure\n"}`
	_, _ = fmt.Fprintf(buf, "HTTP/1.1 401 authentication failure\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	_ = buf.Flush()
}

func (ts *ticketServer) cookieName() string {
	if ts.product == PBS {
		return "PBSAuthCookie"
	}
	return "PVEAuthCookie"
}

func (ts *ticketServer) handleCheck(w http.ResponseWriter, r *http.Request) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		ts.t.Errorf("ticket request also carries Authorization %q", auth)
	}
	c, err := r.Cookie(ts.cookieName())
	if err != nil {
		http.Error(w, "authentication failed", http.StatusUnauthorized)
		return
	}
	if len(r.Header.Values("Cookie")) != 1 {
		ts.t.Errorf("several Cookie header lines: %q", r.Header.Values("Cookie"))
	}
	user, _, ok := ts.verifyTicket(c.Value)
	if !ok {
		http.Error(w, "authentication failed", http.StatusUnauthorized)
		return
	}
	csrf := r.Header.Get("CSRFPreventionToken")
	if r.Method != http.MethodGet {
		stamp, _, _ := strings.Cut(csrf, ":")
		if csrf == "" || csrf != stamp+":"+ts.sign("csrf:"+user+":"+stamp) {
			http.Error(w, "authentication failed", http.StatusUnauthorized)
			return
		}
	} else if csrf != "" {
		ts.t.Errorf("GET carries a CSRF token")
	}
	ts.checked.Add(1)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]string{"user": user, "method": r.Method}})
}

// rotateKey invalidates every ticket issued so far.
func (ts *ticketServer) rotateKey() {
	ts.mu.Lock()
	ts.key = append(ts.key, '+')
	ts.mu.Unlock()
}
