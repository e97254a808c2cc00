package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/proxkit/proxkit/auth"
)

// authScheme is how a request was authenticated, read from the headers
// the credentials set (never from their values).
type authScheme int

const (
	schemeNone   authScheme = iota
	schemeToken             // PVEAPIToken / PBSAPIToken header
	schemeTicket            // PVEAuthCookie / PBSAuthCookie
	schemeOther             // some other Authorization or Cookie
)

func schemeOf(h http.Header) authScheme {
	authz := h.Get("Authorization")
	switch {
	case strings.HasPrefix(authz, "PVEAPIToken") || strings.HasPrefix(authz, "PBSAPIToken"):
		return schemeToken
	case strings.HasPrefix(authz, "PVEAuthCookie") || strings.Contains(h.Get("Cookie"), "AuthCookie="):
		return schemeTicket
	case authz != "" || h.Get("Cookie") != "":
		return schemeOther
	}
	return schemeNone
}

// dialectOf guesses which product produced an answer, so that a client
// set up for the wrong product can be told so: PVE names itself in the
// Server header and has its own reason phrases; PBS sends fixed plain-text
// bodies for authentication and permission failures.
func dialectOf(resp *http.Response, e *APIError) auth.Product {
	if strings.HasPrefix(resp.Header.Get("Server"), "pve-api-daemon") {
		return auth.PVE
	}
	switch e.Reason {
	case "No ticket", "Authentication failed!", "Permission denied - invalid csrf token":
		return auth.PVE
	}
	if e.Reason == http.StatusText(e.Status) {
		switch e.Message {
		case "authentication failed", "permission check failed":
			return auth.PBS
		}
		if e.Status == http.StatusNotFound && strings.HasPrefix(e.Message, "Path '"+APIPrefix) {
			return auth.PBS
		}
	}
	return 0
}

// hintInput is what the hint rules look at.
type hintInput struct {
	product  auth.Product
	server   auth.Product // dialect the answer looks like, 0 if unknown
	status   int
	text     string // lower-case reason, message and parameter errors
	path     string
	scheme   authScheme
	creds    auth.Credentials
	reLogins bool // the credentials log in again after Invalidate
}

const (
	hintTokenOnly = "this endpoint refuses API tokens; use ticket (password) credentials"
	hintToken401  = "likely causes: wrong secret; token or its user expired or disabled " +
		"(PVE: expire in the past, PBS: enable=false); token or user deleted; " +
		"or the other product's header (PVE: PVEAPIToken=id=secret, PBS: PBSAPIToken=id:secret)"
	hintPVETokenPerm = "a privilege-separated token (privsep=1, the default) needs its own ACL entry, " +
		"and gets only privileges its user also has (the intersection)"
	hintPBSTokenPerm = "a PBS API token needs its own ACL entry, " +
		"and gets only privileges its user also has (the intersection)"
	hintTokenPath = "the path names an API token id where a user id belongs; a token is addressed as " +
		"/access/users/{userid}/token/{name}"
)

// hintFor returns "" or a short, actionable guess at the cause of an error.
func hintFor(in hintInput) string {
	if in.server != 0 && in.product != 0 && in.server != in.product &&
		(in.status == http.StatusUnauthorized || in.status == http.StatusForbidden || in.status == http.StatusNotFound) {
		return fmt.Sprintf("the server answers like %s but the client is set up for %s "+
			"(PVE listens on 8006, PBS on 8007); use product %s", in.server, in.product, in.server)
	}
	var id auth.Authid
	if in.creds != nil {
		id = in.creds.AuthID()
	}
	if strings.Contains(in.text, "not available with api token") || strings.Contains(in.text, "api tokens cannot access") {
		return hintTokenOnly
	}
	switch in.status {
	case http.StatusUnauthorized:
		return hint401(in, id)
	case http.StatusForbidden:
		return hintPermission(in)
	case http.StatusBadRequest, http.StatusInternalServerError:
		if strings.Contains(in.text, "missing permissions") || strings.Contains(in.text, "permission check failed") {
			return hintPermission(in)
		}
		if tokenInUserPath(in.path) {
			return hintTokenPath
		}
	}
	return ""
}

func hint401(in hintInput, id auth.Authid) string {
	switch {
	case in.creds == nil && in.scheme == schemeNone:
		return "no credentials were sent; this endpoint needs an API token or a ticket login"
	case strings.Contains(in.text, "invalid csrf token"):
		return "the CSRF token was refused; ticket and CSRF token must come from the same login " + relogin(in)
	case strings.Contains(in.text, "no ticket"):
		return "the server found no credentials it understands; PVE expects PVEAPIToken=user@realm!token=secret or the PVEAuthCookie ticket"
	}
	if h := id.Hint(); h != "" {
		return h
	}
	switch in.scheme {
	case schemeToken:
		if !id.IsZero() && !id.IsToken() {
			return fmt.Sprintf("auth id %s is a user id, not an API token id (user@realm!tokenname)", id)
		}
		return hintToken401
	case schemeTicket:
		return "the ticket was refused (expired or revoked, or the user is disabled or expired) " + relogin(in)
	}
	return ""
}

func relogin(in hintInput) string {
	if in.reLogins {
		return "(the session was reset: the next request logs in again)"
	}
	return "(log in again)"
}

func hintPermission(in hintInput) string {
	if in.scheme != schemeToken {
		return ""
	}
	if in.product == auth.PBS {
		return hintPBSTokenPerm
	}
	return hintPVETokenPerm
}

// tokenInUserPath reports a path /access/users/<segment>... whose user
// segment is a token id (it contains a '!' after an '@').
func tokenInUserPath(p string) bool {
	rest, ok := strings.CutPrefix(p, "/access/users/")
	if !ok {
		return false
	}
	seg, _, _ := strings.Cut(rest, "/")
	seg = strings.ReplaceAll(seg, "%21", "!")
	seg = strings.ReplaceAll(seg, "%40", "@")
	at := strings.LastIndexByte(seg, '@')
	return at >= 0 && strings.LastIndexByte(seg, '!') > at
}
