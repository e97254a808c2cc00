package h2upgrade

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
)

// chunkSize is the size of a fixed-index chunk, the largest PBS upload.
const chunkSize = 4 << 20

// BenchmarkUpload4MiB: 4 MiB POST bodies through one session, with
// inFlight requests at a time (the reference client keeps 64-100 going),
// over TLS on loopback to this package's server side.
func BenchmarkUpload4MiB(b *testing.B) {
	ts := startServer(b, BackupProtocol, serverOptions{})
	payload := benchChunk()
	for _, inFlight := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("inflight=%d", inFlight), func(b *testing.B) {
			c := ts.dial(b)
			settle(b, c)
			b.SetBytes(chunkSize)
			b.ReportAllocs()
			runInFlight(b, inFlight, func() error {
				resp, err := c.Do(context.Background(), "POST", "/discard", nil, "application/octet-stream", bytes.NewReader(payload))
				return drain(resp, err)
			})
		})
	}
}

// BenchmarkDownload4MiB: 4 MiB GET answers, as a reader session fetches
// chunks.
func BenchmarkDownload4MiB(b *testing.B) {
	ts := startServer(b, ReaderProtocol, serverOptions{})
	for _, inFlight := range []int{1, 16} {
		b.Run(fmt.Sprintf("inflight=%d", inFlight), func(b *testing.B) {
			c := ts.dial(b)
			settle(b, c)
			b.SetBytes(chunkSize)
			b.ReportAllocs()
			runInFlight(b, inFlight, func() error {
				resp, err := c.Do(context.Background(), "GET", "/chunk", nil, "", nil)
				return drain(resp, err)
			})
		})
	}
}

// settle waits until the server's SETTINGS have arrived (a PING is
// answered after them), so that the figures are the session's steady
// state: requests started before that send their whole bodies in 16 KiB
// frames (the HTTP/2 default), which with many uploads in flight is a
// large part of a short run.
func settle(b *testing.B, c *Conn) {
	b.Helper()
	if err := c.Ping(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// runInFlight runs op b.N times with at most n calls at once.
func runInFlight(b *testing.B, n int, op func() error) {
	sem := make(chan struct{}, n)
	var (
		wg   sync.WaitGroup
		once sync.Once
		fail error
	)
	b.ResetTimer()
	for range b.N {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := op(); err != nil {
				once.Do(func() { fail = err })
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if fail != nil {
		b.Fatal(fail)
	}
}

// drain reads a response to its end and checks its status.
func drain(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}
