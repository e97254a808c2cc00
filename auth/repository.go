package auth

import (
	"net"
	"regexp"
	"strconv"
	"strings"
)

// The repository grammar of proxmox-backup-client (pbs-protocol.md 2.1),
// built from the same pieces as upstream so that Go's leftmost-first
// matching yields the same captures.
const (
	reSafeID   = `(?:[A-Za-z0-9_][A-Za-z0-9._\-]*)`
	reUserName = `(?:[^\s:/[:cntrl:]]+)`
	reUserID   = reUserName + `@` + reSafeID
	reTokenID  = reUserID + `!` + reSafeID
	reLabel    = `(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?)`
	reDNSName  = `(?:(?:` + reLabel + `\.)*` + reLabel + `)`
	reOctet    = `(?:25[0-5]|(?:2[0-4]|1[0-9]|[1-9])?[0-9])`
	reIPv4     = `(?:(?:` + reOctet + `\.){3}` + reOctet + `)`
	reH16      = `(?:[0-9a-fA-F]{1,4})`
	reLS32     = `(?:(?:` + reIPv4 + `|` + reH16 + `:` + reH16 + `))`
	reIPv6     = `(?:` +
		`(?:(?:(?:` + reH16 + `:){6})` + reLS32 + `)|` +
		`(?:(?:::(?:` + reH16 + `:){5})` + reLS32 + `)|` +
		`(?:(?:(?:` + reH16 + `)?::(?:` + reH16 + `:){4})` + reLS32 + `)|` +
		`(?:(?:(?:(?:` + reH16 + `:){0,1}` + reH16 + `)?::(?:` + reH16 + `:){3})` + reLS32 + `)|` +
		`(?:(?:(?:(?:` + reH16 + `:){0,2}` + reH16 + `)?::(?:` + reH16 + `:){2})` + reLS32 + `)|` +
		`(?:(?:(?:(?:` + reH16 + `:){0,3}` + reH16 + `)?::(?:` + reH16 + `:){1})` + reLS32 + `)|` +
		`(?:(?:(?:(?:` + reH16 + `:){0,4}` + reH16 + `)?::)` + reLS32 + `)|` +
		`(?:(?:(?:(?:` + reH16 + `:){0,5}` + reH16 + `)?::)` + reH16 + `)|` +
		`(?:(?:(?:(?:` + reH16 + `:){0,6}` + reH16 + `)?::))` +
		`)`
	reIPBracket = `(?:` + reIPv4 + `|\[(?:` + reIPv6 + `)\])`
	reRepo      = `^(?:(?:(` + reUserID + `|` + reTokenID + `)@)?(` + reDNSName + `|` + reIPBracket + `):)?(?:([0-9]{1,5}):)?(` + reSafeID + `)$`
)

var (
	repoRegexp = regexp.MustCompile(reRepo)
	hostRegexp = regexp.MustCompile(`^(?:` + reDNSName + `|` + reIPv4 + `|` + reIPv6 + `)$`)
	safeIDRe   = regexp.MustCompile(`^` + reSafeID + `$`)
)

// MaxRepositoryLen is the longest repository string the client accepts.
const MaxRepositoryLen = 256

// DefaultPBSPort is the port of a repository string without one.
const DefaultPBSPort = 8007

// Repository is a parsed proxmox-backup-client repository string
// "[[auth-id@]host[:port]:]datastore".
type Repository struct {
	// AuthID is the identity to log in as; root@pam when the string has
	// none (see HasAuthID).
	AuthID Authid
	// Host is a DNS name or IP address, without brackets for IPv6;
	// "localhost" when the string has none.
	Host string
	// Port is the TCP port, DefaultPBSPort when the string has none.
	Port int
	// Datastore is the datastore name.
	Datastore string

	defaultAuthID bool // AuthID was filled in by ParseRepository
}

// ParseRepository parses a repository string exactly as
// proxmox-backup-client does (same grammar, same defaults: auth id
// root@pam, host localhost, port 8007), rejecting ports above 65535 (and 0)
// and strings longer than MaxRepositoryLen. The auth id must parse as a user
// or token id; note that "user@pbs@host:store" names the *user* user@pbs:
// the secret then is a password, and HasAuthID reports whether any id was
// written at all. Errors are *ParseError matching ErrInvalidRepository.
func ParseRepository(s string) (Repository, error) {
	fail := func(reason string) (Repository, error) {
		return Repository{}, &ParseError{Kind: "repository", Input: redactRepository(s), Reason: reason, Err: ErrInvalidRepository}
	}
	if s == "" {
		return fail("empty; expected [[auth-id@]host[:port]:]datastore")
	}
	if len(s) > MaxRepositoryLen {
		return fail("longer than 256 characters")
	}
	m := repoRegexp.FindStringSubmatchIndex(s)
	if m == nil {
		if strings.Contains(s, "://") {
			return fail("not a URL: write [[auth-id@]host[:port]:]datastore, e.g. backup@pbs!client@pbs.example.com:store1")
		}
		return fail("expected [[auth-id@]host[:port]:]datastore, e.g. backup@pbs!client@pbs.example.com:8007:store1")
	}
	group := func(i int) (string, bool) {
		if m[2*i] < 0 {
			return "", false
		}
		return s[m[2*i]:m[2*i+1]], true
	}
	r := Repository{AuthID: RootUserid.Authid(), Host: "localhost", Port: DefaultPBSPort, defaultAuthID: true}
	if id, ok := group(1); ok {
		a, err := ParseAuthid(id)
		if err != nil {
			return fail("auth id: " + err.(*IDError).Reason)
		}
		r.AuthID, r.defaultAuthID = a, false
	}
	if host, ok := group(2); ok {
		r.Host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	if port, ok := group(3); ok {
		n, _ := strconv.Atoi(port) // at most 5 digits
		if n < 1 || n > 65535 {
			return fail("port " + port + " outside 1..65535")
		}
		r.Port = n
	}
	r.Datastore, _ = group(4)
	return r, nil
}

// redactRepository hides what could be a secret in a repository string
// while keeping host, port and datastore readable: text between a ':' and a
// later '@' (as in "id:SECRET@host:store"), anything from a '=' or
// whitespace on, and UUID-shaped runs.
func redactRepository(s string) string {
	if i, j := strings.IndexByte(s, ':'), strings.LastIndexByte(s, '@'); i >= 0 && i < j {
		s = s[:i] + redactedMark + s[j:]
	}
	if i := strings.IndexAny(s, "= \t\r\n"); i >= 0 {
		s = s[:i] + redactedMark
	}
	s = redactUUIDs(s)
	if len(s) > 128 {
		s = strings.ToValidUTF8(s[:128], "") + "…"
	}
	return s
}

// HasAuthID reports whether the repository names an auth id explicitly
// (false when ParseRepository filled in root@pam). Code that needs an API
// token should insist on an explicit one.
func (r Repository) HasAuthID() bool { return !r.defaultAuthID && !r.AuthID.IsZero() }

// EffectiveAuthID is AuthID, or root@pam when it is empty.
func (r Repository) EffectiveAuthID() Authid {
	if r.AuthID.IsZero() {
		return RootUserid.Authid()
	}
	return r.AuthID
}

func (r Repository) port() int {
	if r.Port == 0 {
		return DefaultPBSPort
	}
	return r.Port
}

func (r Repository) host() string {
	if r.Host == "" {
		return "localhost"
	}
	return r.Host
}

// bracketHost adds brackets to IPv6 addresses.
func bracketHost(h string) string {
	if strings.IndexByte(h, ':') >= 0 && !strings.HasPrefix(h, "[") {
		return "[" + h + "]"
	}
	return h
}

// String returns a repository string proxmox-backup-client accepts and that
// ParseRepository turns back into r: the auth id only when explicit, the
// port only when not 8007, IPv6 hosts in brackets.
func (r Repository) String() string {
	var b strings.Builder
	if r.HasAuthID() {
		b.WriteString(r.AuthID.String())
		b.WriteByte('@')
	}
	b.WriteString(bracketHost(r.host()))
	b.WriteByte(':')
	if p := r.port(); p != DefaultPBSPort {
		b.WriteString(strconv.Itoa(p))
		b.WriteByte(':')
	}
	b.WriteString(r.Datastore)
	return b.String()
}

// BaseURL returns "https://host:port", the Endpoint.BaseURL of the server.
func (r Repository) BaseURL() string {
	return "https://" + net.JoinHostPort(r.host(), strconv.Itoa(r.port()))
}

// Validate checks a Repository built in code: host, port and datastore
// must be what ParseRepository would produce.
func (r Repository) Validate() error {
	fail := func(reason string) error {
		return &ParseError{Kind: "repository", Reason: reason, Err: ErrInvalidRepository}
	}
	switch {
	case !hostRegexp.MatchString(r.host()):
		return fail("host must be a DNS name or an IP address")
	case r.Port < 0 || r.Port > 65535:
		return fail("port outside 1..65535")
	case !safeIDRe.MatchString(r.Datastore):
		return fail("datastore name must start with a letter, digit or '_' and contain only letters, digits, '.', '_' and '-'")
	case len(r.String()) > MaxRepositoryLen:
		return fail("longer than 256 characters")
	}
	return nil
}
