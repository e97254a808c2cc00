package h2upgrade

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDialSendsUpgradeAndSpeaksHTTP2(t *testing.T) {
	ts := startServer(t, BackupProtocol, serverOptions{})
	cfg := ts.config()
	cfg.Header = http.Header{"X-Extra": {"1"}}
	c, err := Dial(context.Background(), cfg)
	require.NoError(t, err)
	defer c.Close()

	up := <-ts.upgrades
	assert.Equal(t, "GET", up.Method)
	assert.Equal(t, "HTTP/1.1", up.Proto)
	assert.Equal(t, "/api2/json/backup", up.URL.Path)
	assert.Equal(t, "backup-id=100&backup-time=1700000000&backup-type=vm&store=tank", up.URL.RawQuery)
	assert.Equal(t, "upgrade", up.Header.Get("Connection"))
	assert.Equal(t, BackupProtocol, up.Header.Get("Upgrade"))
	assert.Equal(t, goodToken, up.Header.Get("Authorization"), "Authorize hook applied")
	assert.Equal(t, "1", up.Header.Get("X-Extra"))
	assert.Equal(t, "proxkit", up.Header.Get("User-Agent"))
	assert.Nil(t, cfg.Header["Connection"], "caller's header map untouched")

	assert.Equal(t, "http/1.1", c.ConnectionState().NegotiatedProtocol)
	assert.True(t, c.Usable())
	assert.NoError(t, c.Err())

	resp, err := c.Do(context.Background(), "GET", "/info", url.Values{"b": {"2"}, "a": {"x y"}}, "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var info requestInfo
	require.NoError(t, json.Unmarshal([]byte(readBody(t, resp)), &info))
	assert.Equal(t, requestInfo{
		Method: "GET", Path: "/info", Query: "a=x+y&b=2", Proto: "HTTP/2.0",
		ContentType: FormContentType, Host: ts.Listener.Addr().String(), TLS: true,
	}, info, "no gzip asked for, form type by default, sorted query")
	assert.Equal(t, 2, resp.ProtoMajor)
}

func TestDialUpgradesOverHTTP1EvenIfServerOffersH2(t *testing.T) {
	ts := startServer(t, ReaderProtocol, serverOptions{advertiseH2: true})
	probeConf := ts.tlsConfig()
	probeConf.NextProtos = []string{"h2", "http/1.1"}
	probe, err := tls.Dial("tcp", ts.Listener.Addr().String(), probeConf)
	require.NoError(t, err)
	assert.Equal(t, "h2", probe.ConnectionState().NegotiatedProtocol, "a client offering h2 would get it")
	probe.Close()

	c := ts.dial(t)
	assert.Equal(t, "http/1.1", c.ConnectionState().NegotiatedProtocol)
	resp, err := c.Do(context.Background(), "POST", "/echo", nil, "application/octet-stream", strings.NewReader("hello"))
	require.NoError(t, err)
	assert.Equal(t, "hello", readBody(t, resp))
	assert.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))
}

func TestDoubleSlashUpgradePathIsAccepted(t *testing.T) {
	ts := startServer(t, BackupProtocol, serverOptions{})
	cfg := ts.config()
	cfg.URL = ts.sessionURL("//api2/json/backup")
	c, err := Dial(context.Background(), cfg)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, "//api2/json/backup", (<-ts.upgrades).URL.Path)
}

func TestManyConcurrentUploads(t *testing.T) {
	ts := startServer(t, BackupProtocol, serverOptions{})
	c := ts.dial(t)
	const n = 64
	size := int64(256 << 10)
	if testing.Short() {
		size = 32 << 10
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			data, err := io.ReadAll(randomData(uint64(i), size+int64(i)))
			if err != nil {
				errs <- err
				return
			}
			resp, err := c.Do(context.Background(), "POST", "/sum", url.Values{"i": {fmt.Sprint(i)}}, "application/octet-stream", bytes.NewReader(data))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			_, sum, _ := digest(bytes.NewReader(data))
			if want := fmt.Sprintf("%d %s", len(data), sum); string(got) != want {
				errs <- fmt.Errorf("upload %d: got %q, want %q", i, got, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.True(t, c.Usable())
}

// Big bodies both ways exceed every window several times, so flow control
// must keep refilling them.
func TestLargeBodiesThroughFlowControl(t *testing.T) {
	size := int64(64 << 20)
	if testing.Short() {
		size = 8 << 20
	}
	ts := startServer(t, BackupProtocol, serverOptions{})
	c := ts.dial(t)

	// Unknown length: streamed without Content-Length.
	resp, err := c.Do(context.Background(), "POST", "/sum", nil, "application/octet-stream", io.MultiReader(randomData(1, size)))
	require.NoError(t, err)
	_, want, err := digest(randomData(1, size))
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("%d %s", size, want), readBody(t, resp))

	resp, err = c.Do(context.Background(), "GET", "/download", url.Values{"size": {fmt.Sprint(size)}}, "", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	n, got, err := digest(resp.Body)
	require.NoError(t, err)
	_, want, _ = digest(randomData(7, size))
	assert.Equal(t, size, n)
	assert.Equal(t, want, got)
}

func TestCancelOneRequestKeepsSession(t *testing.T) {
	ts := startServer(t, BackupProtocol, serverOptions{})
	c := ts.dial(t)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		resp, err := c.Do(ctx, "POST", "/slow", nil, "", nil)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	ts.session.waitSlow(t)
	cancel()
	err := <-done
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, <-ts.session.slowReturned, context.Canceled, "the server saw its stream reset")

	assert.True(t, c.Usable())
	resp, err := c.Do(context.Background(), "POST", "/echo", nil, "", strings.NewReader("still here"))
	require.NoError(t, err)
	assert.Equal(t, "still here", readBody(t, resp))
	require.NoError(t, c.Ping(context.Background()))
}

func TestServerDropFailsInFlightRequests(t *testing.T) {
	ts := startServer(t, BackupProtocol, serverOptions{})
	c := ts.dial(t)

	done := make(chan error, 1)
	go func() {
		resp, err := c.Do(context.Background(), "POST", "/slow", nil, "", nil)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	ts.session.waitSlow(t)
	ts.dropSessions()

	err := <-done
	require.Error(t, err)
	assert.ErrorIs(t, ts.waitEnded(t), context.Canceled, "Upgrade reports why the session ended")
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after the server dropped the connection")
	}
	assert.False(t, c.Usable())
	assert.ErrorIs(t, c.Err(), ErrClosed)

	_, err = c.Do(context.Background(), "GET", "/info", nil, "", nil)
	assert.ErrorIs(t, err, ErrClosed, "no silent redial")
	assert.ErrorIs(t, c.Ping(context.Background()), ErrClosed)
}

func TestCloseEndsServerSession(t *testing.T) {
	ts := startServer(t, BackupProtocol, serverOptions{})
	c := ts.dial(t)

	done := make(chan error, 1)
	go func() {
		_, err := c.Do(context.Background(), "POST", "/slow", nil, "", nil)
		done <- err
	}()
	ts.session.waitSlow(t)
	require.NoError(t, c.Close())
	assert.NoError(t, c.Close(), "second Close")

	assert.ErrorIs(t, <-done, ErrClosed)
	assert.NoError(t, ts.waitEnded(t), "Upgrade returns once the client is gone")
	// Upgrade waited for the handler: its result is already there.
	select {
	case err := <-ts.session.slowReturned:
		assert.Error(t, err)
	default:
		t.Fatal("Upgrade returned before the running handler did")
	}
	assert.False(t, c.Usable())
	assert.ErrorIs(t, c.Err(), ErrClosed)
	_, err := c.Do(context.Background(), "GET", "/info", nil, "", nil)
	assert.ErrorIs(t, err, ErrClosed)
}

func TestConnIsRoundTripper(t *testing.T) {
	ts := startServer(t, BackupProtocol, serverOptions{})
	c := ts.dial(t)
	hc := &http.Client{Transport: c}
	resp, err := hc.Post("https://ignored.example/echo", "text/plain", strings.NewReader("via client"))
	require.NoError(t, err)
	assert.Equal(t, "via client", readBody(t, resp))
}

func TestNewRequestRejectsRelativePath(t *testing.T) {
	ts := startServer(t, BackupProtocol, serverOptions{})
	c := ts.dial(t)
	_, err := c.Do(context.Background(), "GET", "info", nil, "", nil)
	assert.ErrorContains(t, err, "must start with /")
	_, err = c.Do(context.Background(), "BAD METHOD", "/info", nil, "", nil)
	assert.Error(t, err)
	assert.True(t, c.Usable())
	assert.False(t, errors.Is(err, ErrClosed))
}

// More requests than the server's stream limit wait for a free stream
// instead of failing or opening another connection.
func TestRequestsBeyondStreamLimitWait(t *testing.T) {
	ts := startServer(t, BackupProtocol, serverOptions{serveOpts: []ServeOption{WithMaxConcurrentStreams(2)}})
	c := ts.dial(t)
	require.NoError(t, c.Ping(context.Background()), "SETTINGS exchanged")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			body := strings.Repeat("x", i*1000)
			resp, err := c.Do(context.Background(), "POST", "/echo", nil, "", strings.NewReader(body))
			if err == nil {
				var got []byte
				got, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil && string(got) != body {
					err = fmt.Errorf("request %d: echo differs", i)
				}
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

// A request waiting for a free stream gives up when its context ends.
func TestQueuedRequestHonoursContext(t *testing.T) {
	ts := startServer(t, BackupProtocol, serverOptions{serveOpts: []ServeOption{WithMaxConcurrentStreams(1)}})
	c := ts.dial(t)
	require.NoError(t, c.Ping(context.Background()), "SETTINGS exchanged")

	slowCtx, stopSlow := context.WithCancel(context.Background())
	slowDone := make(chan error, 1)
	go func() {
		_, err := c.Do(slowCtx, "POST", "/slow", nil, "", nil)
		slowDone <- err
	}()
	ts.session.waitSlow(t)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, "GET", "/info", nil, "", nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	stopSlow()
	assert.ErrorIs(t, <-slowDone, context.Canceled)
	resp, err := c.Do(context.Background(), "POST", "/echo", nil, "", strings.NewReader("next"))
	require.NoError(t, err)
	assert.Equal(t, "next", readBody(t, resp))
}
