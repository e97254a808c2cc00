package pvetest

import (
	"fmt"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// API tokens: /access/users/{userid}/token (PVE API2/User.pm). The path's
// {tokenid} is the token's name, never the full id.

func (s *Server) tokenRoutes(rt *mockcore.Router) {
	self := endpoint{perm: func(c *call) error { return c.selfOrUserModify() }}
	s.handle(rt, "GET", "/access/users/{userid}/token", self, listTokens)
	s.handle(rt, "GET", "/access/users/{userid}/token/{tokenid}", self, getToken)
	s.handle(rt, "POST", "/access/users/{userid}/token/{tokenid}", self, createToken)
	s.handle(rt, "PUT", "/access/users/{userid}/token/{tokenid}", self, updateToken)
	s.handle(rt, "DELETE", "/access/users/{userid}/token/{tokenid}", self, deleteToken)
}

// tokenTarget reads and checks {userid} and {tokenid} and the other
// allowed parameters.
func tokenTarget(c *call, allowed ...string) (auth.Userid, string, error) {
	f := form{c.p}
	c.p.RejectUnknown(append([]string{"userid", "tokenid"}, allowed...)...)
	id, _ := f.userid("userid")
	name, _ := f.tokenName("tokenid")
	return id, name, c.p.Err()
}

// lookupToken is check_token_exist.
func (c *call) lookupToken(id auth.Userid, name string) (*userRecord, *tokenRecord, error) {
	u, ok := c.s.users[id]
	if !ok {
		return nil, nil, noSuchUser(id)
	}
	t, ok := u.tokens[name]
	if !ok {
		return u, nil, fmt.Errorf("no such token '%s' for user '%s'", name, id)
	}
	return u, t, nil
}

func fullTokenID(u auth.Userid, name string) auth.Authid {
	id, _ := auth.NewTokenID(u, auth.TokenName(name)) // name checked by tokenTarget
	return id
}

func listTokens(c *call) (any, error) {
	_, u, err := c.onlyUser()
	if err != nil {
		return nil, err
	}
	rows := []map[string]any{}
	for _, name := range u.sortedTokenNames() {
		m := tokenData(u.tokens[name])
		m["tokenid"] = name
		rows = append(rows, m)
	}
	return rows, nil
}

func getToken(c *call) (any, error) {
	id, name, err := tokenTarget(c)
	if err != nil {
		return nil, err
	}
	_, t, err := c.lookupToken(id, name)
	if err != nil {
		return nil, err
	}
	return tokenData(t), nil
}

// createToken generates the secret as PVE does (a random UUID), stores
// only its hash and shows it this once. The answer's info has "expire"
// only if it was passed, like PVE's, whose later reads always show it.
func createToken(c *call) (any, error) {
	id, name, err := tokenTarget(c, "expire", "privsep", "comment")
	if err != nil {
		return nil, err
	}
	f := form{c.p}
	expire, hasExpire := f.nonNegative("expire")
	privsep := c.p.BoolOr("privsep", true)
	comment, _ := c.p.String("comment")
	if err := c.p.Err(); err != nil {
		return nil, err
	}
	u, ok := c.s.users[id]
	if !ok {
		return nil, noSuchUser(id)
	}
	if _, exists := u.tokens[name]; exists {
		return nil, mockcore.NewParamError(auth.PVE, "tokenid", "Token already exists.")
	}
	full := fullTokenID(id, name)
	t := &tokenRecord{privsep: privsep, expire: expire, comment: comment}
	if err := c.s.policy.SetToken(full, privsep); err != nil {
		return nil, fmt.Errorf("generating token failed: %w", err)
	}
	u.tokens[name] = t
	secret := c.s.secrets.Issue(full)
	info := map[string]any{"privsep": boolInt(privsep)}
	if hasExpire {
		info["expire"] = expire
	}
	if comment != "" {
		info["comment"] = comment
	}
	return map[string]any{"full-tokenid": full.String(), "info": info, "value": secret}, nil
}

// updateToken changes only what was passed; with regenerate=1 it issues
// a new secret (the old one stops working) and shows it once. Errors
// raised while PVE holds its config lock lose their status code (500).
func updateToken(c *call) (any, error) {
	id, name, err := tokenTarget(c, "expire", "privsep", "comment", "delete", "regenerate")
	if err != nil {
		return nil, err
	}
	f := form{c.p}
	expire, hasExpire := f.nonNegative("expire")
	privsep, hasPrivsep := c.p.Bool("privsep")
	comment, hasComment := c.p.String("comment")
	regenerate := c.p.BoolOr("regenerate", false)
	del, _ := f.configIDList("delete")
	if err := c.p.Err(); err != nil {
		return nil, err
	}
	_, t, err := c.lookupToken(id, name)
	if err != nil {
		return nil, err
	}
	for _, k := range del {
		if k != "comment" {
			return nil, lockedParamError("updating token info failed", "delete", fmt.Sprintf("unknown option '%s'", k))
		}
	}
	full := fullTokenID(id, name)
	if hasPrivsep {
		t.privsep = privsep
		if err := c.s.policy.SetToken(full, privsep); err != nil {
			return nil, fmt.Errorf("updating token info failed: %w", err)
		}
	}
	if hasExpire {
		t.expire = expire
	}
	if hasComment {
		t.comment = comment
	}
	if len(del) > 0 {
		t.comment = ""
	}
	m := tokenData(t)
	if regenerate {
		m["value"] = c.s.secrets.Issue(full)
		m["full-tokenid"] = full.String()
	}
	return m, nil
}

// deleteToken removes the token and its secret; PVE drops its ACL entries
// the next time it reads user.cfg, which here is at once.
func deleteToken(c *call) (any, error) {
	id, name, err := tokenTarget(c)
	if err != nil {
		return nil, err
	}
	u, _, err := c.lookupToken(id, name)
	if err != nil {
		return nil, err
	}
	full := fullTokenID(id, name)
	delete(u.tokens, name)
	c.s.secrets.Delete(full)
	c.s.policy.RemoveToken(full)
	return nil, nil
}

// lockedParamError is a parameter error PVE raises inside its config
// lock: the lock wrapper prefixes the stringified exception ("400
// Parameter verification failed." and the parameter lines) and the code is
// lost, so the client sees a 500 whose reason is the first line.
func lockedParamError(prefix, param, msg string) error {
	return fmt.Errorf("%s: 400 %s\n%s: %s", prefix, mockcore.PVEReasonParamFailed, param, msg)
}
