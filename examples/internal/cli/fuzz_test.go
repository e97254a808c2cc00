package cli

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"1", "1795860000", "2026-11-22T10:00:00Z", "", "-1", "9999999999999999999", "2026-13-01T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		if err != nil {
			return
		}
		assert.Equal(t, time.UTC, got.Location())
		assert.GreaterOrEqual(t, got.Unix(), int64(1))
	})
}

func FuzzOneLine(f *testing.F) {
	f.Add("HTTP 403\nhint: x\r\n", testSecret)
	f.Add("", "abcd")
	f.Fuzz(func(t *testing.T, msg, secret string) {
		app := &App{}
		app.Redact(auth.NewSecret(secret))
		line := app.OneLine(errors.New(msg))
		require.NotContains(t, line, "\n")
		require.NotContains(t, line, "\r")
		if len(secret) >= 4 && !strings.Contains("[redacted]", secret) {
			require.NotContains(t, line, secret)
		}
	})
}
