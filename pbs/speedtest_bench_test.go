package pbs_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
)

// BenchmarkSpeedTest measures one round of speedtest calls (each slot
// posts one 4 MiB buffer) on a benchmark session of the in-process mock,
// which shares the CPU with the client: the loopback figure that the
// benchmark example's TLS row shows against a mock in its own process.
func BenchmarkSpeedTest(b *testing.B) {
	e := newBkEnv(b)
	ctx := bkCtx(b)
	s, err := e.c.StartBackup(ctx, pbs.BackupOptions{
		Datastore: e.srv.Datastore, Type: datastore.TypeHost, ID: "benchmark", Benchmark: true, NoReuse: true,
	})
	require.NoError(b, err)
	defer s.Abort()
	b.SetBytes(pbs.SpeedTestInFlight * pbs.SpeedTestBufferSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.SpeedTest(ctx, time.Nanosecond); err != nil {
			b.Fatal(err)
		}
	}
}
