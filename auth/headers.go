package auth

import (
	"net/http"
	"strings"
)

// Names of the cookies and headers the two products use for sessions.
const (
	pveTicketCookie = "PVEAuthCookie"
	pbsTicketCookie = "PBSAuthCookie"
	csrfHeader      = "CSRFPreventionToken"
)

// removeTicketCookies drops every ticket cookie (PVE, PBS and the
// "__Host-" variant of newer PBS) from h, keeping other cookies.
func removeTicketCookies(h http.Header) {
	lines := h.Values("Cookie")
	if len(lines) == 0 {
		return
	}
	var kept []string
	for _, line := range lines {
		for _, part := range strings.Split(line, ";") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			switch name {
			case pveTicketCookie, pbsTicketCookie, "__Host-" + pbsTicketCookie, "":
				continue
			}
			kept = append(kept, strings.TrimSpace(part))
		}
	}
	h.Del("Cookie")
	if len(kept) > 0 {
		h.Set("Cookie", strings.Join(kept, "; "))
	}
}

// removeTokenHeader drops an Authorization header holding Proxmox
// credentials (an API token, or PVE's ticket-in-header form).
func removeTokenHeader(h http.Header) {
	for _, p := range []string{"PVEAPIToken", "PBSAPIToken", pveTicketCookie, pbsTicketCookie} {
		if strings.HasPrefix(h.Get("Authorization"), p) {
			h.Del("Authorization")
			return
		}
	}
}

// Percent-encoding sets: which bytes get encoded in header values.
type encodeSet func(c byte) bool

// pbsEncode is proxmox-backup-client's set for token secrets and tickets
// (controls, space, "#<>?`{}, DEL and non-ASCII) plus '%', which must be
// encoded because the server percent-decodes.
func pbsEncode(c byte) bool {
	return c < 0x20 || c >= 0x7f || strings.IndexByte(" \"#<>`?{}%", c) >= 0
}

// pveEncode covers what would end or corrupt a PVE header or cookie value
// that the server percent-decodes: controls, space, '%', ';', ',', '"',
// '\\', DEL and non-ASCII.
func pveEncode(c byte) bool {
	return c < 0x20 || c >= 0x7f || strings.IndexByte(" %;,\"\\", c) >= 0
}

func percentEncode(s string, enc encodeSet) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if enc(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexdigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if enc(c) {
			b = append(b, '%', hexdigits[c>>4], hexdigits[c&0x0f])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}
