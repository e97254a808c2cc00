package h2upgrade

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const switching = "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: " + BackupProtocol + "\r\n\r\n"

func upgradeRequest(t testing.TB) *http.Request {
	req, err := http.NewRequest("GET", "https://pbs:8007/api2/json/backup", nil)
	require.NoError(t, err)
	return req
}

func TestReadUpgradeResponse(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		pending string
		refused *UpgradeError
		wantErr error
	}{
		{name: "101", raw: switching},
		{name: "101 with HTTP/2 behind it", raw: switching + "\x00\x00\x00\x04\x00\x00\x00\x00\x00", pending: "\x00\x00\x00\x04\x00\x00\x00\x00\x00"},
		{name: "header case", raw: "HTTP/1.1 101 Switching Protocols\r\nUPGRADE: PROXMOX-backup-protocol-v1\r\n\r\n"},
		{name: "400 text", raw: "HTTP/1.1 400 Bad Request\r\ncontent-length: 22\r\n\r\ninvalid protocol name\n",
			refused: &UpgradeError{Status: 400, Message: "invalid protocol name"}},
		{name: "401 chunked", raw: "HTTP/1.1 401 Unauthorized\r\ntransfer-encoding: chunked\r\n\r\n15\r\nauthentication failed\r\n0\r\n\r\n",
			refused: &UpgradeError{Status: 401, Message: "authentication failed"}},
		{name: "403 until close", raw: "HTTP/1.1 403 Forbidden\r\n\r\npermission check failed",
			refused: &UpgradeError{Status: 403, Message: "permission check failed"}},
		{name: "truncated body", raw: "HTTP/1.1 404 Not Found\r\ncontent-length: 100\r\n\r\nnamespace",
			refused: &UpgradeError{Status: 404, Message: "namespace"}},
		{name: "truncated empty body", raw: "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 100\r\n\r\n",
			refused: &UpgradeError{Status: 500, Message: "(body unreadable: unexpected EOF)"}},
		{name: "wrong protocol", raw: "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n", wantErr: ErrProtocolMismatch},
		{name: "no upgrade header", raw: "HTTP/1.1 101 Switching Protocols\r\n\r\n", wantErr: ErrProtocolMismatch},
		{name: "empty", raw: "", wantErr: ErrMalformedResponse},
		{name: "not HTTP", raw: "SSH-2.0-OpenSSH_9.6\r\n", wantErr: ErrMalformedResponse},
		{name: "cut in headers", raw: "HTTP/1.1 101 Switching Protocols\r\nupgr", wantErr: ErrMalformedResponse},
		{name: "bad status", raw: "HTTP/1.1 abc OK\r\n\r\n", wantErr: ErrMalformedResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pending, err := readUpgradeResponse(bufio.NewReader(strings.NewReader(tt.raw)), upgradeRequest(t), BackupProtocol)
			switch {
			case tt.refused != nil:
				var ue *UpgradeError
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, tt.refused, ue)
			case tt.wantErr != nil:
				assert.ErrorIs(t, err, tt.wantErr)
			default:
				require.NoError(t, err)
				assert.Equal(t, tt.pending, string(pending))
			}
		})
	}
}

func TestReadUpgradeResponseLimitsMessage(t *testing.T) {
	raw := "HTTP/1.1 400 Bad Request\r\n\r\n" + strings.Repeat("x", 3*maxErrorBody)
	_, err := readUpgradeResponse(bufio.NewReader(strings.NewReader(raw)), upgradeRequest(t), BackupProtocol)
	var ue *UpgradeError
	require.ErrorAs(t, err, &ue)
	assert.Len(t, ue.Message, maxErrorBody)
}

// FuzzReadUpgradeResponse feeds arbitrary answers to the upgrade request:
// never a panic, only the package's typed errors, and on success exactly
// the bytes behind the answer are handed on.
func FuzzReadUpgradeResponse(f *testing.F) {
	for _, seed := range []string{
		switching,
		switching + "\x00\x00\x00\x04\x00\x00\x00\x00\x00",
		"HTTP/1.1 400 Bad Request\r\ncontent-length: 21\r\n\r\ninvalid protocol name",
		"HTTP/1.1 401 Unauthorized\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nupgrade: h2c\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\n\xff\xfe",
		"HTTP/1.1 999 Odd\r\ncontent-length: 99999999999\r\n\r\n",
		"garbage",
	} {
		f.Add([]byte(seed))
	}
	req := upgradeRequest(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		pending, err := readUpgradeResponse(bufio.NewReader(bytes.NewReader(raw)), req, BackupProtocol)
		if err != nil {
			var ue *UpgradeError
			switch {
			case errors.As(err, &ue):
				if len(ue.Message) > maxErrorBody+64 || !utf8.ValidString(ue.Message) {
					t.Fatalf("message not bounded or not UTF-8: %q", ue.Message)
				}
			case errors.Is(err, ErrProtocolMismatch), errors.Is(err, ErrMalformedResponse):
			default:
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(raw) <= 4096 && !bytes.HasSuffix(raw, pending) {
			t.Fatalf("pending %q is not what followed the answer in %q", pending, raw)
		}
	})
}
