package pbs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/proxkit/proxkit/auth"
)

// ErrInvalidUPID is matched by every error of ParseUPID.
var ErrInvalidUPID = errors.New("invalid UPID")

// UPID is the id of a server task (verify, garbage collection, prune),
// written "UPID:node:pid:pstart:taskid:starttime:type:id:authid:":
//
//	UPID:pbs1:000004D2:0000162E:00000003:66608A04:verify_snapshot:store1\x3a-host-web01-66608A00:admin@pbs:
//
// The zero UPID names no task. Compare UPIDs by String.
type UPID struct {
	Node       string      // host name of the server that runs the task
	PID        uint32      // process id of the server
	PStart     uint64      // start time of that process in clock ticks since boot
	TaskID     uint64      // counter within the process
	StartTime  time.Time   // when the task started (whole seconds, UTC)
	WorkerType string      // "verify", "verify_snapshot", "garbage_collection", "prune", ...
	WorkerID   string      // the object the task works on, unescaped ("" for none)
	AuthID     auth.Authid // who started the task

	raw string // the text the server sent, kept so requests quote it exactly
}

// ParseUPID parses a UPID with the rules of PBS's UPID schema: node a DNS
// label, pid 8 hex digits, pstart 8 or 9, task id 8 to 16, start time 8,
// worker type and auth id non-empty, worker id possibly empty, none of them
// holding ':' or white space, a ':' at the end. The worker id is unescaped
// (systemd unit escaping: "\xNN" is a byte, '-' is '/'). Errors match
// ErrInvalidUPID.
func ParseUPID(s string) (UPID, error) {
	fail := func(why string) (UPID, error) {
		q := s
		if len(q) > 160 {
			q = q[:160] + "..."
		}
		return UPID{}, fmt.Errorf("pbs: %w %q: %s", ErrInvalidUPID, q, why)
	}
	rest, ok := strings.CutPrefix(s, "UPID:")
	if !ok {
		return fail(`does not start with "UPID:"`)
	}
	if !strings.HasSuffix(rest, ":") {
		return fail("does not end with ':'")
	}
	f := strings.Split(rest[:len(rest)-1], ":")
	if len(f) != 8 {
		return fail("needs 8 fields")
	}
	u := UPID{raw: s}
	if !upidIsDNSLabel(f[0]) {
		return fail("bad node name")
	}
	u.Node = f[0]
	pid, err := upidHex(f[1], 8, 8)
	if err != nil {
		return fail("pid: " + err.Error())
	}
	u.PID = uint32(pid)
	if u.PStart, err = upidHex(f[2], 8, 9); err != nil {
		return fail("pstart: " + err.Error())
	}
	if u.TaskID, err = upidHex(f[3], 8, 16); err != nil {
		return fail("task id: " + err.Error())
	}
	start, err := upidHex(f[4], 8, 8)
	if err != nil {
		return fail("start time: " + err.Error())
	}
	u.StartTime = time.Unix(int64(start), 0).UTC()
	for i, what := range []string{"worker type", "worker id", "auth id"} {
		v := f[5+i]
		if v == "" && i != 1 {
			return fail(what + " is empty")
		}
		if strings.IndexFunc(v, unicode.IsSpace) >= 0 {
			return fail(what + " holds white space")
		}
	}
	u.WorkerType = f[5]
	if u.WorkerID, err = upidUnescapeUnit(f[6]); err != nil {
		return fail("worker id: " + err.Error())
	}
	if u.AuthID, err = auth.ParseAuthid(f[7]); err != nil {
		return fail("auth id: " + err.Error())
	}
	return u, nil
}

// String returns the UPID as the server wrote it, or, for a UPID built in
// code, in PBS's encoding (hex fields upper case, the worker id escaped).
func (u UPID) String() string {
	if u.raw != "" {
		return u.raw
	}
	if u.IsZero() {
		return ""
	}
	return fmt.Sprintf("UPID:%s:%08X:%08X:%08X:%08X:%s:%s:%s:",
		u.Node, u.PID, u.PStart, u.TaskID, u.StartTime.Unix(), u.WorkerType, upidEscapeUnit(u.WorkerID), u.AuthID)
}

// IsZero reports whether u names no task.
func (u UPID) IsZero() bool {
	return u.raw == "" && u.Node == "" && u.WorkerType == "" && u.AuthID.IsZero()
}

// MarshalText encodes the UPID as String does.
func (u UPID) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText parses a UPID like ParseUPID.
func (u *UPID) UnmarshalText(b []byte) error {
	v, err := ParseUPID(string(b))
	if err != nil {
		return err
	}
	*u = v
	return nil
}

// upidHex parses between min and max hex digits.
func upidHex(s string, lo, hi int) (uint64, error) {
	if len(s) < lo || len(s) > hi {
		return 0, fmt.Errorf("want %d to %d hex digits", lo, hi)
	}
	for i := 0; i < len(s); i++ {
		if !upidIsHex(s[i]) {
			return 0, errors.New("not hex")
		}
	}
	return strconv.ParseUint(s, 16, 64)
}

func upidIsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// upidIsDNSLabel matches [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?.
func upidIsDNSLabel(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// upidEscapeUnit escapes a worker id as PBS does (systemd unit escaping): '/'
// becomes '-', bytes other than letters, digits, '_' and '.' (and a leading
// '.') become "\xNN". Upstream writes bytes below 0x10 with one hex digit,
// which its own parser cannot read back; two digits are written here.
func upidEscapeUnit(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '/':
			b.WriteByte('-')
		case c == '.' && i > 0, c == '_', '0' <= c && c <= '9', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	return b.String()
}

// upidUnescapeUnit reverses upidEscapeUnit: "\xNN" is a byte, '-' is '/', the result
// must be UTF-8.
func upidUnescapeUnit(s string) (string, error) {
	if !strings.ContainsAny(s, `\-`) {
		if !utf8.ValidString(s) {
			return "", errors.New("not UTF-8")
		}
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '-':
			b = append(b, '/')
		case '\\':
			if i+3 >= len(s) || s[i+1] != 'x' || !upidIsHex(s[i+2]) || !upidIsHex(s[i+3]) {
				return "", errors.New(`bad "\x" escape`)
			}
			n, _ := strconv.ParseUint(s[i+2:i+4], 16, 8)
			b = append(b, byte(n))
			i += 3
		default:
			b = append(b, s[i])
		}
	}
	if !utf8.Valid(b) {
		return "", errors.New("not UTF-8")
	}
	return string(b), nil
}
