package h2upgrade

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// settingsSeen collects what a peer announced in its first frames.
type settingsSeen struct {
	settings     map[http2.SettingID]uint32 // from its first non-ACK SETTINGS
	connIncrease uint32                     // its WINDOW_UPDATE on stream 0
	headers      *http2.HeadersFrame        // the first request, if any
	settingsAck  bool                       // it acknowledged our SETTINGS
	pingAck      bool                       // it answered our PING
}

// complete reports whether both SETTINGS and the connection update came.
func (s *settingsSeen) complete() bool { return s.settings != nil && s.connIncrease != 0 }

// testPing is the payload of the PING the hand-made server sends.
var testPing = [8]byte{'p', 'r', 'o', 'x', 'k', 'i', 't', '!'}

// readPeerFrames reads frames into a settingsSeen until done says so.
func readPeerFrames(fr *http2.Framer, done func(*settingsSeen) bool) (*settingsSeen, error) {
	seen := &settingsSeen{}
	for range 10 {
		f, err := fr.ReadFrame()
		if err != nil {
			return seen, err
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			seen.settingsAck = seen.settingsAck || f.IsAck()
			if !f.IsAck() && seen.settings == nil {
				seen.settings = map[http2.SettingID]uint32{}
				_ = f.ForeachSetting(func(s http2.Setting) error {
					seen.settings[s.ID] = s.Val
					return nil
				})
			}
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 {
				seen.connIncrease = f.Increment
			}
		case *http2.HeadersFrame:
			seen.headers = f
		case *http2.PingFrame:
			seen.pingAck = seen.pingAck || (f.IsAck() && f.Data == testPing)
		}
		if done(seen) {
			return seen, nil
		}
	}
	return seen, errors.New("expected frames not seen within 10 frames")
}

// The server's bytes on the wire: PBS's 101 spelling, then HTTP/2 with
// PBS's settings. The request uses the Rust client's double slash and
// upper-case header name.
func TestServerWireFormat(t *testing.T) {
	ts := startServer(t, BackupProtocol, serverOptions{})
	conn, fr := rawUpgrade(t, ts)
	seen, err := readPeerFrames(fr, (*settingsSeen).complete)
	require.NoError(t, err)
	assert.Equal(t, uint32(MaxFrameSize), seen.settings[http2.SettingMaxFrameSize])
	assert.Equal(t, uint32(ServerWindow), seen.settings[http2.SettingInitialWindowSize])
	assert.Equal(t, uint32(ServerWindow), seen.connIncrease+initialWindow, "connection window")
	assert.Equal(t, uint32(250), seen.settings[http2.SettingMaxConcurrentStreams], "x/net's default")

	conn.Close()
	assert.NoError(t, ts.waitEnded(t))
}

func TestServerMaxConcurrentStreams(t *testing.T) {
	ts := startServer(t, BackupProtocol, serverOptions{serveOpts: []ServeOption{WithMaxConcurrentStreams(64)}})
	_, fr := rawUpgrade(t, ts)
	seen, err := readPeerFrames(fr, (*settingsSeen).complete)
	require.NoError(t, err)
	assert.Equal(t, uint32(64), seen.settings[http2.SettingMaxConcurrentStreams])
}

// rawUpgrade upgrades by hand, as the Rust client spells it (double slash,
// upper-case header name), checks the server's 101 byte for byte, sends
// the HTTP/2 preface and returns a framer on the connection.
func rawUpgrade(t *testing.T, ts *testServer) (*tls.Conn, *http2.Framer) {
	t.Helper()
	conn, err := tls.Dial("tcp", ts.Listener.Addr().String(), ts.tlsConfig())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))

	_, err = io.WriteString(conn, "GET //api2/json/backup?store=tank HTTP/1.1\r\nHost: localhost:8007\r\n"+
		"Authorization: "+goodToken+"\r\nConnection: upgrade\r\nUPGRADE: "+ts.protocol+"\r\n\r\n")
	require.NoError(t, err)
	want := "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: " + ts.protocol + "\r\n\r\n"
	got := make([]byte, len(want))
	_, err = io.ReadFull(conn, got)
	require.NoError(t, err)
	require.Equal(t, want, string(got))

	_, err = io.WriteString(conn, http2.ClientPreface)
	require.NoError(t, err)
	fr := http2.NewFramer(conn, conn)
	require.NoError(t, fr.WriteSettings())
	return conn, fr
}

// pipelinedConn sends the upgrade request together with the HTTP/2
// preface in one write, without waiting for the 101, so the server finds
// the preface already buffered when it takes the connection over.
type pipelinedConn struct {
	*tls.Conn
	request []byte
	br      *bufio.Reader

	once    sync.Once
	readErr error
}

func (p *pipelinedConn) Write(b []byte) (int, error) {
	if p.request != nil {
		buf := append(p.request, b...)
		p.request = nil
		_, err := p.Conn.Write(buf)
		return len(b), err
	}
	return p.Conn.Write(b)
}

func (p *pipelinedConn) Read(b []byte) (int, error) {
	p.once.Do(func() {
		resp, err := http.ReadResponse(p.br, nil)
		if err == nil && resp.StatusCode != http.StatusSwitchingProtocols {
			err = errors.New(resp.Status)
		}
		p.readErr = err
	})
	if p.readErr != nil {
		return 0, p.readErr
	}
	return p.br.Read(b)
}

func TestServerUsesPrefaceBufferedWithRequest(t *testing.T) {
	ts := startServer(t, BackupProtocol, serverOptions{})
	conn, err := tls.Dial("tcp", ts.Listener.Addr().String(), ts.tlsConfig())
	require.NoError(t, err)
	defer conn.Close()
	pc := &pipelinedConn{
		Conn: conn,
		br:   bufio.NewReader(conn),
		request: []byte("GET /api2/json/backup HTTP/1.1\r\nHost: x\r\nAuthorization: " + goodToken +
			"\r\nConnection: upgrade\r\nUpgrade: " + BackupProtocol + "\r\n\r\n"),
	}
	cc, err := (&http2.Transport{}).NewClientConn(pc)
	require.NoError(t, err)
	defer cc.Close()
	req, err := http.NewRequest("POST", "https://x/echo", bytes.NewReader([]byte("pipelined")))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cc.RoundTrip(req.WithContext(ctx))
	require.NoError(t, err)
	assert.Equal(t, "pipelined", readBody(t, resp))
}

// A hand-made HTTP/2 server checks what the client announces, and sends
// its SETTINGS and a PING in the same write as the 101 so that the client
// finds them already buffered behind the answer: it must acknowledge both.
func TestClientSettingsAndBytesBufferedBehind101(t *testing.T) {
	seenCh := make(chan settingsSeen, 1)
	errCh := make(chan error, 1)
	ts := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			errCh <- err
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		var out bytes.Buffer
		out.WriteString("HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: " + BackupProtocol + "\r\n\r\n")
		early := http2.NewFramer(&out, nil)
		if err := errors.Join(early.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100}),
			early.WritePing(false, testPing)); err != nil {
			errCh <- err
			return
		}
		if _, err := conn.Write(out.Bytes()); err != nil {
			errCh <- err
			return
		}
		preface := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(rw.Reader, preface); err != nil || string(preface) != http2.ClientPreface {
			errCh <- errors.New("no client preface")
			return
		}
		fr := http2.NewFramer(conn, rw.Reader)
		seen, err := readPeerFrames(fr, func(s *settingsSeen) bool { return s.complete() && s.headers != nil && s.settingsAck && s.pingAck })
		if err != nil {
			errCh <- err
			return
		}
		seenCh <- *seen
		var hdr bytes.Buffer
		enc := hpack.NewEncoder(&hdr)
		_ = enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
		_ = fr.WriteSettingsAck()
		errCh <- fr.WriteHeaders(http2.HeadersFrameParam{StreamID: seen.headers.StreamID, BlockFragment: hdr.Bytes(), EndHeaders: true, EndStream: true})
		_, _ = io.Copy(io.Discard, rw.Reader) // until the client closes
	})

	c := ts.dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Do(ctx, "GET", "/previous_backup_time", nil, "", nil)
	require.NoError(t, err, "the client read the SETTINGS that came with the 101")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, <-errCh)

	seen := <-seenCh
	assert.Equal(t, uint32(ClientWindow), seen.settings[http2.SettingInitialWindowSize], "stream window 2^31-2")
	assert.Equal(t, uint32(MaxFrameSize), seen.settings[http2.SettingMaxFrameSize])
	assert.Equal(t, uint32(0), seen.settings[http2.SettingEnablePush])
	assert.Equal(t, uint32(ClientWindow), seen.connIncrease+initialWindow, "connection window 2^31-2")
}
