package pvetest

import (
	"net/http"
	"strings"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// Tickets: /access/ticket (PVE API2/AccessControl.pm). A login needs a
// password set with the user's "password" at creation (or
// WithRootPassword); renewing posts a valid ticket as the password.
// Second factors are not modelled.

func (s *Server) ticketRoutes(rt *mockcore.Router) {
	s.handle(rt, "GET", "/access/ticket", endpoint{world: true}, func(c *call) (any, error) {
		return nil, c.noParams()
	})
	rt.Handle("POST", "/access/ticket", s.createTicket)
}

// loginFailed is every refusal of a login, whatever the cause, so that
// user names cannot be probed.
var loginFailed = mockcore.Errorf(http.StatusUnauthorized, "%s", mockcore.PVELoginFailed)

// createTicket answers POST /access/ticket. It is registered directly
// (not through handle) because its refusals are 401 after the login
// delay, and a login changes no state.
func (s *Server) createTicket(w http.ResponseWriter, r *http.Request) {
	c := &call{s: s, r: r, now: s.now()}
	if !s.authorize(w, r, endpoint{world: true, noToken: true}, c) {
		return
	}
	p, err := mockcore.ParsePVEParams(r)
	if err != nil {
		mockcore.WritePVEFailure(w, r, err)
		return
	}
	c.p = p
	data, err := s.login(c)
	if err != nil {
		if err == loginFailed {
			s.authn.Delay.Wait(r)
		}
		mockcore.WritePVEFailure(w, r, err)
		return
	}
	mockcore.WritePVEData(w, r, data)
}

func (s *Server) login(c *call) (map[string]any, error) {
	f := form{c.p}
	c.p.RejectUnknown("username", "password", "realm", "otp", "path", "privs", "new-format", "tfa-challenge")
	c.p.Require("username", "password")
	username, _ := f.str("username", 64)
	password, _ := c.p.String("password")
	realm, _ := f.str("realm", 32)
	path, _ := f.str("path", 64)
	privs, _ := f.privList("privs")
	f.requires("path", "privs")
	f.requires("privs", "path")
	_ = c.p.BoolOr("new-format", true)
	otp, _ := c.p.String("otp")
	challenge, _ := c.p.String("tfa-challenge")
	if err := c.p.Err(); err != nil {
		return nil, err
	}
	if realm != "" {
		username += "@" + realm
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, msg := parseUserid(username)
	if msg != "" || otp != "" || challenge != "" {
		return nil, loginFailed
	}
	if u, ok := s.users[id]; !ok || !u.enable || mockcore.Expired(auth.PVE, u.expire, c.now) {
		return nil, loginFailed
	}
	ticketUser, ticketErr := s.tickets.Verify(auth.PVE, password, c.now)
	validTicket := ticketErr == nil && (ticketUser == id || path == "" && ticketUser == auth.RootUserid)
	if !validTicket && !s.passwords.Verify(id.Authid(), password) {
		return nil, loginFailed
	}
	res := map[string]any{"username": id.String()}
	if path != "" {
		norm, err := acl.NormalizePath(auth.PVE, path)
		if err != nil || len(privs) == 0 || !s.policy.Check(id.Authid(), norm, privs...) {
			return nil, loginFailed
		}
	} else {
		res["ticket"] = s.tickets.Mint(auth.PVE, id, c.now)
		res["CSRFPreventionToken"] = s.tickets.CSRFToken(id, c.now)
	}
	res["cap"] = s.capabilitiesLocked(id.Authid())
	return res, nil
}

// capGroups maps the UI capability groups of a login answer to the
// privilege name prefixes that count for them.
var capGroups = map[string][]string{
	"vms":     {"VM.", "Permissions.Modify"},
	"access":  {"User.", "Group.", "Permissions.Modify"},
	"storage": {"Datastore.", "Permissions.Modify"},
	"nodes":   {"Sys.", "Permissions.Modify"},
	"sdn":     {"SDN.", "Permissions.Modify"},
	"dc":      {"Sys.Audit", "Sys.Modify", "SDN."},
	"mapping": {"Mapping.", "Permissions.Modify"},
}

// capabilitiesLocked is PVE's compute_api_permission: for the fixed
// top-level paths and every ACL node, the privileges held there, sorted
// into capability groups by the path's first component ("dc" for "/";
// /pool paths count for vms and storage). Caller holds s.mu.
func (s *Server) capabilitiesLocked(id auth.Authid) map[string]map[string]int {
	res := map[string]map[string]int{}
	for g := range capGroups {
		res[g] = map[string]int{}
	}
	paths := []string{"/", "/nodes", "/access/groups", "/vms", "/storage", "/sdn", "/mapping"}
	for p := range s.policy.Permissions(id) {
		paths = append(paths, p)
	}
	for _, p := range paths {
		top := "dc"
		if rest, ok := strings.CutPrefix(p, "/"); ok && rest != "" {
			top, _, _ = strings.Cut(rest, "/")
		}
		for _, priv := range s.policy.Privileges(id, p).Names() {
			if top == "pool" {
				switch {
				case strings.HasPrefix(priv, "VM."):
					res["vms"][priv] = 1
				case strings.HasPrefix(priv, "Datastore."):
					res["storage"][priv] = 1
				case priv == acl.PrivPermissionsModify:
					res["storage"][priv] = 1
					res["vms"][priv] = 1
				}
				continue
			}
			for _, prefix := range capGroups[top] {
				if strings.HasPrefix(priv, prefix) {
					res[top][priv] = 1
					break
				}
			}
		}
	}
	return res
}
