package mockcore

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ReasonHeader carries the intended reason phrase when a custom one cannot
// be put on the status line (HTTP/2, httptest.ResponseRecorder). Only the
// fallback sets it; real servers have no such header.
const ReasonHeader = "X-Mockcore-Reason"

// maxDrain bounds how much of an unread request body is consumed before a
// raw reply closes the connection; closing a TCP socket with unread input
// makes the kernel send a reset that can destroy the reply in flight.
const maxDrain = 1 << 20

// hopHeaders are set by writeWithReason itself or meaningless on a
// response that closes the connection.
var hopHeaders = map[string]bool{
	"Connection": true, "Content-Length": true, "Date": true, "Keep-Alive": true,
	"Transfer-Encoding": true, "Trailer": true, "Upgrade": true,
}

// writeWithReason writes a response whose status line carries reason
// instead of the standard text. net/http cannot do that, so it hijacks the
// HTTP/1.x connection, writes the response by hand with "Connection:
// close" and closes it (the server cannot take a hijacked connection
// back, so keep-alive ends here; clients reconnect). Headers already set
// on w are kept. Without hijacking it falls back to a normal response with
// the standard reason and the intended one in ReasonHeader.
func writeWithReason(w http.ResponseWriter, r *http.Request, status int, reason, contentType string, body []byte) {
	reason = sanitizeReason(reason)
	if r != nil && r.Body != nil && r.ProtoMajor == 1 {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxDrain))
	}
	if r != nil && r.ProtoMajor == 1 {
		if conn, rw, err := http.NewResponseController(w).Hijack(); err == nil {
			defer conn.Close()
			writeRawResponse(rw.Writer, w.Header(), status, reason, contentType, body, r.Method == http.MethodHead)
			_ = rw.Writer.Flush()
			return
		}
	}
	h := w.Header()
	h.Set(ReasonHeader, reason)
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeRawResponse(bw *bufio.Writer, hdr http.Header, status int, reason, contentType string, body []byte, head bool) {
	bw.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + reason + "\r\n")
	for k, vs := range hdr {
		ck := http.CanonicalHeaderKey(k)
		if hopHeaders[ck] || ck == "Content-Type" && contentType != "" {
			continue
		}
		for _, v := range vs {
			bw.WriteString(ck + ": " + sanitizeReason(v) + "\r\n")
		}
	}
	if contentType != "" {
		bw.WriteString("Content-Type: " + contentType + "\r\n")
	}
	bw.WriteString("Date: " + time.Now().UTC().Format(http.TimeFormat) + "\r\n")
	bw.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	bw.WriteString("Connection: close\r\n\r\n")
	if !head {
		bw.Write(body)
	}
}

// sanitizeReason keeps a reason phrase (or header value) on one line.
func sanitizeReason(s string) string {
	return strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f {
			return ' '
		}
		return c
	}, s)
}
