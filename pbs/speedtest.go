package pbs

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/proxkit/proxkit/datastore"
)

// Upload speed tests (pbs-protocol.md 3.5.10): a backup session's POST
// speedtest reads and discards its body, so posting one buffer again and
// again measures TLS, HTTP/2 and the server's receive path without any
// chunk work on either side.
const (
	// DefaultSpeedTestDuration is how long a speed test starts new
	// uploads when no duration is given, as proxmox-backup-client
	// benchmark does.
	DefaultSpeedTestDuration = 5 * time.Second
	// SpeedTestBufferSize is the body of one speedtest call: 4 MiB, the
	// size of the largest chunks and of proxmox-backup-client's buffer.
	SpeedTestBufferSize = 4 << 20
	// SpeedTestInFlight is how many speedtest calls a test keeps in
	// flight: 8 x 4 MiB fill PBS's 32 MiB HTTP/2 connection window, as
	// proxmox-backup-client does by piping one body after another while
	// the answers queue, so a link with a long round trip stays busy too.
	SpeedTestInFlight = 8
)

// SpeedTestResult is what an upload speed test measured.
type SpeedTestResult struct {
	// Bytes is the payload of the calls the server answered.
	Bytes int64
	// Requests is the number of speedtest calls answered.
	Requests int
	// Duration runs from the first call to the last answer.
	Duration time.Duration
}

// BytesPerSecond is Bytes over Duration, the figure of the "TLS (maximal
// backup upload speed)" row of proxmox-backup-client benchmark.
func (r SpeedTestResult) BytesPerSecond() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Bytes) / r.Duration.Seconds()
}

// String reads "1267.41 MB/s (302 x 4 MiB in 5.01s)", in decimal
// megabytes as proxmox-backup-client prints it.
func (r SpeedTestResult) String() string {
	return fmt.Sprintf("%.2f MB/s (%d x %d MiB in %.2fs)", r.BytesPerSecond()/1e6, r.Requests, SpeedTestBufferSize>>20, r.Duration.Seconds())
}

// UploadSpeedTest measures the upload speed to the server as
// proxmox-backup-client benchmark does: it opens a benchmark session of
// the group host/benchmark in the root namespace of store, posts 4 MiB
// buffers for d (DefaultSpeedTestDuration if d <= 0) with
// SpeedTestInFlight calls in flight, waits for the last answer and aborts
// the session. A benchmark session never creates a snapshot, and the
// owner of host/benchmark is not checked (PBS: GET /api2/json/backup
// with benchmark=true, then POST speedtest; needs Datastore.Backup on
// /datastore/{store}).
//
// Cancelling ctx stops the test and returns the context's error.
func (c *Client) UploadSpeedTest(ctx context.Context, store string, d time.Duration) (SpeedTestResult, error) {
	s, err := c.StartBackup(ctx, BackupOptions{
		Datastore: store,
		Type:      datastore.TypeHost,
		ID:        "benchmark",
		Benchmark: true,
		NoReuse:   true, // a benchmark group has no finished snapshot to reuse
	})
	if err != nil {
		return SpeedTestResult{}, err
	}
	defer s.Abort()
	return s.SpeedTest(ctx, d)
}

// SpeedTest posts 4 MiB buffers on this session for d
// (DefaultSpeedTestDuration if d <= 0), SpeedTestInFlight at a time (and
// at least that many in all), and returns once every call started was
// answered. The server discards what it receives, so the snapshot is
// unchanged; on a session that is to be kept, the test's traffic simply
// delays the uploads that share the connection (PBS: POST speedtest).
//
// As any failed call does, a failure (including ctx ending) aborts the
// session.
func (s *BackupSession) SpeedTest(ctx context.Context, d time.Duration) (SpeedTestResult, error) {
	if err := s.usable(); err != nil {
		return SpeedTestResult{}, err
	}
	if d <= 0 {
		d = DefaultSpeedTestDuration
	}
	buf := speedTestBuffer()
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)

	var (
		answered atomic.Int64
		wg       sync.WaitGroup
		failOnce sync.Once
		failure  error
	)
	start := time.Now()
	for range SpeedTestInFlight {
		wg.Go(func() {
			for first := true; first || time.Since(start) < d; first = false {
				if ctx.Err() != nil {
					return
				}
				if err := s.sess.call(ctx, http.MethodPost, "/speedtest", nil, formType, buf, nil); err != nil {
					failOnce.Do(func() { failure = err })
					stop(err)
					return
				}
				answered.Add(1)
			}
		})
	}
	wg.Wait()
	res := SpeedTestResult{
		Requests: int(answered.Load()),
		Bytes:    answered.Load() * SpeedTestBufferSize,
		Duration: time.Since(start),
	}
	if failure == nil && ctx.Err() != nil {
		failure = context.Cause(ctx) // ended between two calls
	}
	if failure != nil {
		return res, s.fail(fmt.Errorf("pbs: speedtest: %w", failure))
	}
	return res, nil
}

// speedTestBuffer is proxmox-backup-client's speed test payload: the
// little-endian 32-bit counter 0, 1, 2, … over 4 MiB. Its content does
// not matter to TLS; keeping it the same keeps the two tests alike.
func speedTestBuffer() []byte {
	buf := make([]byte, SpeedTestBufferSize)
	for i := 0; i < len(buf); i += 4 {
		binary.LittleEndian.PutUint32(buf[i:], uint32(i/4))
	}
	return buf
}
