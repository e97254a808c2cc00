package mockcore

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/proxkit/proxkit/auth"
)

// Ticket timing shared by both products (access-api.md 2.2; PBS
// proxmox-auth-api verify_with_time_frame(-300..7200), PVE AccessControl.pm
// $ticket_lifetime and $auth_graceperiod).
const (
	// TicketLifetime is how long a ticket or CSRF token stays valid.
	TicketLifetime = 2 * time.Hour
	// TicketFutureSkew is how far in the future a ticket's timestamp may lie.
	TicketFutureSkew = 5 * time.Minute
)

// TicketError describes a ticket or CSRF token that does not verify. It
// never contains the ticket. It matches ErrInvalidTicket and, through
// Unwrap, ErrTicketExpired or ErrTicketFromFuture when that is the cause.
type TicketError struct {
	Reason string
	Err    error // nil, ErrTicketExpired or ErrTicketFromFuture
}

// Error returns "mockcore: invalid ticket: <reason>".
func (e *TicketError) Error() string { return "mockcore: invalid ticket: " + e.Reason }

// Is makes errors.Is(err, ErrInvalidTicket) true.
func (e *TicketError) Is(target error) bool { return target == ErrInvalidTicket }

// Unwrap returns the specific cause, if any.
func (e *TicketError) Unwrap() error { return e.Err }

func ticketErr(reason string) *TicketError { return &TicketError{Reason: reason} }

// TicketSigner mints and verifies session tickets and CSRF prevention
// tokens with random HMAC-SHA256 keys. Real servers sign tickets with RSA
// (PVE) or an EC/HMAC keyring (PBS); clients treat tickets as opaque, so
// only the shape matters. A TicketSigner is safe for concurrent use.
type TicketSigner struct {
	ticketKey []byte
	csrfKey   []byte
}

// NewTicketSigner returns a signer with fresh random keys: tickets of one
// signer never verify with another, like tickets of another server.
func NewTicketSigner() *TicketSigner {
	s := &TicketSigner{ticketKey: make([]byte, 32), csrfKey: make([]byte, 32)}
	_, _ = rand.Read(s.ticketKey) // crypto/rand.Read never fails (Go 1.24+)
	_, _ = rand.Read(s.csrfKey)
	return s
}

// TicketPrefix returns "PVE" or "PBS", the first field of a ticket.
func TicketPrefix(p auth.Product) string {
	if p == auth.PVE {
		return "PVE"
	}
	return "PBS"
}

// LooksLikeTicket reports whether password is shaped like a ticket of
// product p ("PVE:" or "PBS:" prefix). POST /access/ticket renews a session
// when the password is a valid ticket; the server first checks this prefix.
func LooksLikeTicket(p auth.Product, password string) bool {
	return strings.HasPrefix(password, TicketPrefix(p)+":")
}

// Mint returns a ticket for user issued at now:
// "PVE:<userid>:<8+ upper-hex time>::<base64 signature>" (PBS: "PBS:…").
// PVE signatures are padded base64 like real PVE tickets (so clients must
// cope with '=' in the cookie), PBS ones unpadded like proxmox-auth-api.
func (s *TicketSigner) Mint(p auth.Product, user auth.Userid, now time.Time) string {
	data := ticketData(p, user.String(), now.Unix())
	sig := s.sign(s.ticketKey, data)
	return data + "::" + ticketEncoding(p).EncodeToString(sig)
}

// Verify checks a ticket of product p at time now and returns its user. A
// ticket is valid from TicketFutureSkew before its timestamp to
// TicketLifetime after it, both ends included. Errors are *TicketError.
func (s *TicketSigner) Verify(p auth.Product, ticket string, now time.Time) (auth.Userid, error) {
	// prefix:data:time::signature, split like the PBS parser: the fourth
	// field starts with the second colon of "::".
	parts := strings.SplitN(ticket, ":", 4)
	if len(parts) != 4 {
		return auth.Userid{}, ticketErr("format error - wrong number of parts")
	}
	prefix, data, hexTime, rest := parts[0], parts[1], parts[2], parts[3]
	if prefix != TicketPrefix(p) {
		return auth.Userid{}, ticketErr("ticket with invalid prefix")
	}
	if !strings.HasPrefix(rest, ":") {
		return auth.Userid{}, ticketErr("ticket without signature separator")
	}
	ts, err := parseHexTime(hexTime)
	if err != nil {
		return auth.Userid{}, ticketErr("ticket with bad timestamp")
	}
	sig, err := decodeSignature(p, rest[1:])
	if err != nil {
		return auth.Userid{}, ticketErr("ticket with bad signature encoding")
	}
	if err := checkAge(ts, now); err != nil {
		return auth.Userid{}, err
	}
	if !hmac.Equal(sig, s.sign(s.ticketKey, prefix+":"+data+":"+hexTime)) {
		return auth.Userid{}, ticketErr("ticket with invalid signature")
	}
	if p == auth.PBS {
		// PBS percent-encodes controls and ':' in the data field.
		data = percentDecodeLenient(data)
		if !utf8.ValidString(data) {
			return auth.Userid{}, ticketErr("ticket data is not UTF-8")
		}
	}
	user, err := auth.ParseUserid(data)
	if err != nil {
		return auth.Userid{}, ticketErr("ticket data is not a user id")
	}
	return user, nil
}

// CSRFToken returns the CSRF prevention token for user issued at now:
// "<8+ upper-hex time>:<unpadded base64 HMAC>", bound to the user id.
func (s *TicketSigner) CSRFToken(user auth.Userid, now time.Time) string {
	ts := hexTime(now.Unix())
	return ts + ":" + base64.RawStdEncoding.EncodeToString(s.sign(s.csrfKey, csrfData(ts, user)))
}

// VerifyCSRF checks a CSRF prevention token of user at time now, with the
// same time window as tickets. Errors are *TicketError.
func (s *TicketSigner) VerifyCSRF(user auth.Userid, token string, now time.Time) error {
	ts, sigText, ok := strings.Cut(token, ":")
	if !ok || strings.IndexByte(sigText, ':') >= 0 {
		return ticketErr("csrf token format error - wrong number of parts")
	}
	sig, err := base64.RawStdEncoding.DecodeString(sigText)
	if err != nil {
		return ticketErr("could not base64 decode csrf signature")
	}
	t, err := parseHexTime(ts)
	if err != nil {
		return ticketErr("csrf timestamp format error")
	}
	if !hmac.Equal(sig, s.sign(s.csrfKey, csrfData(hexTime(t), user))) {
		return ticketErr("invalid csrf signature")
	}
	return checkAge(t, now)
}

func (s *TicketSigner) sign(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func ticketData(p auth.Product, user string, unix int64) string {
	return TicketPrefix(p) + ":" + user + ":" + hexTime(unix)
}

func csrfData(ts string, user auth.Userid) string { return ts + ":" + user.String() + ":" }

func hexTime(unix int64) string { return fmt.Sprintf("%08X", unix) }

// parseHexTime accepts 1 to 16 hex digits (the servers print at least 8).
func parseHexTime(s string) (int64, error) {
	if s == "" || len(s) > 16 {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseInt(s, 16, 64)
}

func ticketEncoding(p auth.Product) *base64.Encoding {
	if p == auth.PVE {
		return base64.StdEncoding
	}
	return base64.RawStdEncoding
}

// decodeSignature accepts PVE signatures with or without padding (PVE's
// decoder is lenient) and PBS ones only unpadded.
func decodeSignature(p auth.Product, s string) ([]byte, error) {
	if p == auth.PVE {
		s = strings.TrimRight(s, "=")
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// checkAge applies the window [-TicketFutureSkew, TicketLifetime] to the
// age of a timestamp.
func checkAge(ts int64, now time.Time) error {
	age := now.Unix() - ts
	switch {
	case age < -int64(TicketFutureSkew/time.Second):
		return &TicketError{Reason: "timestamp newer than expected", Err: ErrTicketFromFuture}
	case age > int64(TicketLifetime/time.Second):
		return &TicketError{Reason: "expired", Err: ErrTicketExpired}
	}
	return nil
}
