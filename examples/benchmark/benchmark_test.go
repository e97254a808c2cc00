package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/examples/internal/cli"
)

func runBenchmark(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := &cli.App{Name: "benchmark", Args: args, Stdout: &stdout, Stderr: &stderr, Lookup: auth.MapEnv(nil)}
	return app.Run(context.Background(), run), stdout.String(), stderr.String()
}

func TestTestDataIsUpstreamCounter(t *testing.T) {
	data := testData(testDataSize)
	require.Len(t, data, 1<<20)
	assert.Equal(t, []byte{0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0}, data[:12])
	assert.Equal(t, uint32(0x12345), binary.LittleEndian.Uint32(data[4*0x12345:]))
	assert.Equal(t, []byte{0xff, 0xff, 0x03, 0x00}, data[len(data)-4:])
}

func TestTableMatchesUpstreamLayout(t *testing.T) {
	// The figures of the example in the PBS documentation (backup client
	// chapter): the same numbers must give the same table.
	f := func(v float64) *float64 { return &v }
	res := referenceResults()
	res.TLS.Speed = f(1267.41e6)
	res.SHA256.Speed = f(2066.73e6)
	res.Compress.Speed = f(775.11e6)
	res.Decompress.Speed = f(1233.35e6)
	res.Verify.Speed = f(783.43e6)
	res.AES256GCM.Speed = f(3688.27e6)
	var out bytes.Buffer
	require.NoError(t, writeResults(&out, &res, "text"))
	want := `┌───────────────────────────────────┬─────────────────────┐
│ Name                              │ Value               │
╞═══════════════════════════════════╪═════════════════════╡
│ TLS (maximal backup upload speed) │ 1267.41 MB/s (103%) │
├───────────────────────────────────┼─────────────────────┤
│ SHA256 checksum computation speed │ 2066.73 MB/s (102%) │
├───────────────────────────────────┼─────────────────────┤
│ ZStd level 1 compression speed    │ 775.11 MB/s (103%)  │
├───────────────────────────────────┼─────────────────────┤
│ ZStd level 1 decompression speed  │ 1233.35 MB/s (103%) │
├───────────────────────────────────┼─────────────────────┤
│ Chunk verification speed          │ 783.43 MB/s (103%)  │
├───────────────────────────────────┼─────────────────────┤
│ AES256 GCM encryption speed       │ 3688.27 MB/s (101%) │
└───────────────────────────────────┴─────────────────────┘
`
	assert.Equal(t, want, out.String())
}

func TestRunPrintsTableAndLog(t *testing.T) {
	code, out, errOut := runBenchmark(t, "--scale", "0.01")
	require.Equal(t, cli.ExitOK, code, errOut)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 15)
	assert.Contains(t, lines[3], "│ not tested ")
	for _, name := range []string{"SHA256 checksum", "compression", "decompression", "verification", "AES256 GCM"} {
		assert.Regexp(t, `\d+\.\d\d MB/s \(\d+%\)`, lineWith(lines, name), name)
	}
	for _, prefix := range []string{"SHA256 speed: ", "Compression speed: ", "Decompress speed: ", "AES256/GCM speed: ", "Verify speed: "} {
		assert.Contains(t, "\n"+errOut, "\n"+prefix)
	}
}

func lineWith(lines []string, s string) string {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func TestRunJSON(t *testing.T) {
	code, out, errOut := runBenchmark(t, "--scale", "0.01", "--output-format", "json")
	require.Equal(t, cli.ExitOK, code, errOut)
	var got map[string]map[string]float64
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, map[string]float64{"top": 1235e6}, got["tls"], "an untested speed is left out, as upstream does")
	for _, k := range []string{"sha256", "compress", "decompress", "aes256_gcm", "verify"} {
		assert.Greater(t, got[k]["speed"], 0.0, k)
		assert.Greater(t, got[k]["top"], 0.0, k)
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--scale", "0"}, {"--output-format", "yaml"}, {"extra"}} {
		code, out, errOut := runBenchmark(t, args...)
		assert.Equal(t, cli.ExitUsage, code, args)
		assert.Empty(t, out)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
	}
}
