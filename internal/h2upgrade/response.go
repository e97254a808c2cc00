package h2upgrade

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// maxErrorBody bounds how much of a refusal body is read and kept: PBS
// messages are one line; anything longer is not worth holding.
const maxErrorBody = 64 << 10

// readUpgradeResponse reads the answer to an upgrade request for protocol
// from br. On 101 it checks the Upgrade header and returns the bytes br
// had already buffered beyond the response: they belong to HTTP/2. Any
// other status becomes an *UpgradeError carrying the plain-text body.
func readUpgradeResponse(br *bufio.Reader, req *http.Request, protocol string) ([]byte, error) {
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		var netErr net.Error
		if errors.As(err, &netErr) {
			return nil, fmt.Errorf("h2upgrade: read upgrade response: %w", err)
		}
		// Unparsable, or cut short by the peer closing the connection.
		return nil, fmt.Errorf("%w: %w", ErrMalformedResponse, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		msg := strings.TrimSpace(strings.ToValidUTF8(string(body), "\uFFFD"))
		if err != nil && msg == "" {
			// The status alone still tells what happened.
			msg = "(body unreadable: " + err.Error() + ")"
		}
		return nil, &UpgradeError{Status: resp.StatusCode, Message: msg}
	}
	if got := resp.Header.Get("Upgrade"); !strings.EqualFold(got, protocol) {
		return nil, fmt.Errorf("%w: asked for %q, got %q", ErrProtocolMismatch, protocol, got)
	}
	// A 101 has no body, so everything still buffered was sent after it.
	n := br.Buffered()
	if n == 0 {
		return nil, nil
	}
	rest, err := br.Peek(n)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedResponse, err)
	}
	return append([]byte(nil), rest...), nil
}
