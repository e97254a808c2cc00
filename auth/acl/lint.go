package acl

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/proxkit/proxkit/auth"
)

// Severity ranks a Lint finding.
type Severity int

const (
	// SeverityInfo: harmless but probably not intended.
	SeverityInfo Severity = iota + 1
	// SeverityWarning: more access than needed, or access that silently
	// does not work.
	SeverityWarning
	// SeverityCritical: a credential whose leak hands over the server.
	SeverityCritical
)

// String returns "info", "warning" or "critical".
func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityWarning:
		return "warning"
	case SeverityCritical:
		return "critical"
	}
	return "unknown"
}

// Lint check identifiers (Finding.Check), stable for filtering.
const (
	CheckAdminAtRoot       = "admin-at-root"
	CheckTokenNoACL        = "token-no-acl"
	CheckTokenNoPrivsep    = "token-no-privsep"
	CheckTokenRowsIgnored  = "token-rows-ignored"
	CheckTokenCappedToNone = "token-capped-to-nothing"
	CheckExpired           = "expired"
	CheckOwnerInactive     = "owner-inactive"
)

// Finding is one problem Lint found.
type Finding struct {
	Severity Severity
	Check    string // one of the Check* constants
	Subject  string // user id, group id or token id
	Path     string // ACL path concerned, "" when the finding is not about one
	Message  string // what is wrong and what to do about it
}

// String renders "severity check: subject[ on path]: message".
func (f Finding) String() string {
	where := ""
	if f.Path != "" {
		where = " on " + f.Path
	}
	return fmt.Sprintf("%s %s: %s%s: %s", f.Severity, f.Check, f.Subject, where, f.Message)
}

// Account is what Lint needs to know about a user or token beyond the
// policy: whether it is disabled (PVE users and PBS users and tokens; PVE
// tokens have no such flag) and when it expires (Unix seconds, 0 = never).
type Account struct {
	ID       auth.Authid
	Disabled bool
	Expire   int64
}

// expired applies the product's rule: PVE expires when expire < now, PBS
// when expire <= now.
func (a Account) expired(p auth.Product, now int64) bool {
	if a.Expire <= 0 {
		return false
	}
	if p == auth.PBS {
		return a.Expire <= now
	}
	return a.Expire < now
}

// Lint reviews a policy for risky or ineffective grants:
//
//   - admin-at-root: a user, group or token holding an administrator role
//     (PVE Administrator or PVEAdmin, PBS Admin) or any role with
//     Permissions.Modify or Sys.Modify on "/"; critical for tokens;
//   - token-no-acl: a privilege-separated token without any ACL entry,
//     which can do nothing;
//   - token-no-privsep: a PVE token without privilege separation, which
//     has all of its owner's privileges;
//   - token-rows-ignored: ACL entries of such a token, which PVE ignores;
//   - token-capped-to-nothing: a token entry that grants privileges its
//     owner lacks on that path, so the token gets nothing there;
//   - expired: users and tokens past their expiry that still exist;
//   - owner-inactive: tokens whose owner is disabled or expired, which
//     cannot authenticate.
//
// accounts describes the users and tokens (tokens listed there count as
// existing even if the policy was not told about them). Findings are
// sorted by severity (highest first), check, subject and path.
func Lint(p *Policy, accounts []Account, now time.Time) []Finding {
	l := linter{p: p, now: now.Unix(), accounts: map[string]Account{}}
	for _, a := range accounts {
		l.accounts[a.ID.String()] = a
	}
	l.adminAtRoot()
	l.tokens()
	l.lifecycle()
	slices.SortFunc(l.out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), strings.Compare(a.Check, b.Check),
			strings.Compare(a.Subject, b.Subject), strings.Compare(a.Path, b.Path), strings.Compare(a.Message, b.Message))
	})
	return l.out
}

type linter struct {
	p        *Policy
	now      int64
	accounts map[string]Account
	out      []Finding
}

func (l *linter) add(sev Severity, check, subject, path, format string, args ...any) {
	l.out = append(l.out, Finding{Severity: sev, Check: check, Subject: subject, Path: path, Message: fmt.Sprintf(format, args...)})
}

// isAdminRole reports whether role is administrator-class for Lint.
func (l *linter) isAdminRole(role string) bool {
	if role == RolePVEAdministrator && l.p.product == auth.PVE || role == "PVEAdmin" && l.p.product == auth.PVE ||
		role == RolePBSAdmin && l.p.product == auth.PBS {
		return true
	}
	privs, _ := l.p.rolePrivs(role)
	return slices.Contains(privs, PrivPermissionsModify) || slices.Contains(privs, PrivSysModify)
}

func (l *linter) adminAtRoot() {
	for _, e := range l.p.Entries() {
		if e.Path != "/" || !l.isAdminRole(e.Role) {
			continue
		}
		if e.Type == Token && l.ignoresOwnRows(e.Subject) {
			continue // reported as token-rows-ignored
		}
		scope := "on / itself (not propagated)"
		if e.Propagate {
			scope = "on / and everything below it"
		}
		switch {
		case e.Type == Token:
			l.add(SeverityCritical, CheckAdminAtRoot, e.Subject, e.Path,
				"API token holds %s %s: anyone with its secret can administer the server. Grant a narrower role on the paths it needs instead (its owner's privileges still cap it)", e.Role, scope)
		case e.Type == Group:
			l.add(SeverityWarning, CheckAdminAtRoot, e.Subject, e.Path,
				"every member of group %s holds %s %s. Keep such groups small, or grant narrower roles on the paths the members need", e.Subject, e.Role, scope)
		default:
			l.add(SeverityWarning, CheckAdminAtRoot, e.Subject, e.Path,
				"user holds %s %s. If the account is used for automation, give it a narrower role; its API tokens should use privilege separation", e.Role, scope)
		}
	}
}

// ignoresOwnRows reports whether tokenID is a PVE token without privilege
// separation, whose own ACL entries do not count.
func (l *linter) ignoresOwnRows(tokenID string) bool {
	privsep, ok := l.p.tokens[tokenID]
	return l.p.product == auth.PVE && ok && !privsep
}

// knownTokens returns every token registered in the policy, named by an
// entry, or listed in the accounts.
func (l *linter) knownTokens(rows map[string][]Entry) []string {
	set := map[string]bool{}
	for t := range l.p.tokens {
		set[t] = true
	}
	for t := range rows {
		set[t] = true
	}
	for s, a := range l.accounts {
		if a.ID.IsToken() {
			set[s] = true
		}
	}
	return sortedKeys(set)
}

func (l *linter) tokens() {
	rows := map[string][]Entry{}
	for _, e := range l.p.Entries() {
		if e.Type == Token {
			rows[e.Subject] = append(rows[e.Subject], e)
		}
	}
	for _, t := range l.knownTokens(rows) {
		tok, err := auth.ParseAuthid(t)
		if err != nil {
			continue
		}
		if l.ignoresOwnRows(t) {
			l.add(SeverityWarning, CheckTokenNoPrivsep, t, "",
				"API token has no privilege separation, so it holds every privilege of %s. Recreate it with privilege separation (privsep=1) and grant it only the roles it needs", tok.User())
			if n := len(rows[t]); n > 0 {
				l.add(SeverityInfo, CheckTokenRowsIgnored, t, "",
					"PVE ignores the token's %d ACL entries because it has no privilege separation. Enable privilege separation or remove the entries", n)
			}
			continue
		}
		if _, registered := l.p.tokens[t]; !registered && l.p.product == auth.PVE {
			continue // PVE drops entries of unknown tokens; nothing to judge
		}
		if len(rows[t]) == 0 {
			l.add(SeverityInfo, CheckTokenNoACL, t, "",
				"privilege-separated API token has no ACL entries and can do nothing. Grant it a role on the paths it needs, or delete it")
			continue
		}
		l.cappedToNothing(tok, rows[t])
	}
}

// cappedToNothing reports entries of a separated token that grant
// privileges while the owner holds none of them there.
func (l *linter) cappedToNothing(tok auth.Authid, rows []Entry) {
	if tok.User().IsRoot() {
		return // root@pam's tokens are not capped
	}
	seen := map[string]bool{}
	for _, e := range rows {
		if seen[e.Path] {
			continue
		}
		seen[e.Path] = true
		own := l.p.uncappedPrivileges(tok, e.Path)
		if len(own) == 0 || len(l.p.Privileges(tok, e.Path)) > 0 {
			continue
		}
		l.add(SeverityWarning, CheckTokenCappedToNone, tok.String(), e.Path,
			"the token's roles here grant %s, but its owner %s holds none of them on this path, and a token never exceeds its owner: it gets nothing. Grant the owner a role on %s (or above it, propagated), or remove the token's entry",
			strings.Join(own.Names(), ", "), tok.User(), e.Path)
	}
}

// uncappedPrivileges is a separated token's privileges from its own
// entries (and, on PVE, pools) before the owner intersection.
func (p *Policy) uncappedPrivileges(tok auth.Authid, path string) PrivSet {
	roles := p.resolve(tok.String(), true, path)
	if p.product == auth.PVE {
		p.addPoolRoles(tok, path, roles)
	}
	return p.privsOf(roles)
}

func (l *linter) lifecycle() {
	for _, s := range sortedKeys(l.accounts) {
		a := l.accounts[s]
		if a.expired(l.p.product, l.now) {
			kind := "user"
			if a.ID.IsToken() {
				kind = "API token"
			}
			l.add(SeverityInfo, CheckExpired, s, "",
				"%s expired at %s but still exists. Delete it, or set a new expiry if it is still needed", kind, time.Unix(a.Expire, 0).UTC().Format(time.RFC3339))
		}
		if !a.ID.IsToken() {
			continue
		}
		owner, ok := l.accounts[a.ID.User().String()]
		if !ok || a.expired(l.p.product, l.now) {
			continue
		}
		switch {
		case owner.Disabled:
			l.add(SeverityInfo, CheckOwnerInactive, s, "",
				"API token cannot authenticate because its owner %s is disabled. Enable the owner or delete the token", a.ID.User())
		case owner.expired(l.p.product, l.now):
			l.add(SeverityInfo, CheckOwnerInactive, s, "",
				"API token cannot authenticate because its owner %s has expired. Extend the owner's expiry or delete the token", a.ID.User())
		}
	}
}
