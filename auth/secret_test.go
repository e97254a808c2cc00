package auth

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testSecret = "s3cr3t-9f8e7d6c-value"

// formats renders v with every verb and flag combination worth trying.
func formats(v any) []string {
	var out []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%d", "%T", "%10s", "%-10v", "%.3s"} {
		out = append(out, fmt.Sprintf(f, v))
	}
	out = append(out, fmt.Sprint(v), fmt.Sprintln(v))
	return out
}

func TestSecretNeverShowsValue(t *testing.T) {
	s := NewSecret(testSecret)
	require.Equal(t, testSecret, s.Reveal())

	type exported struct {
		Name   string
		Secret Secret
		Ptr    *Secret
	}
	type unexported struct {
		name   string
		secret Secret
		ptr    *Secret
	}
	values := map[string]any{
		"value":      s,
		"pointer":    &s,
		"exported":   exported{Name: "n", Secret: s, Ptr: &s},
		"exportedP":  &exported{Name: "n", Secret: s, Ptr: &s},
		"unexported": unexported{name: "n", secret: s, ptr: &s},
		"slice":      []Secret{s, s},
		"map":        map[string]Secret{"k": s},
		"any":        []any{s},
	}
	for name, v := range values {
		for _, out := range formats(v) {
			assert.NotContains(t, out, testSecret, "%s: %q", name, out)
			assert.NotContains(t, out, testSecret[:6], "%s: %q", name, out)
		}
	}

	assert.Equal(t, "[redacted]", s.String())
	assert.Equal(t, "auth.Secret([redacted])", s.GoString())
	assert.Equal(t, "[redacted]", fmt.Sprintf("%x", s))
	assert.Equal(t, "[redacted]", fmt.Sprintf("%q", s))

	b, err := json.Marshal(exported{Secret: s, Ptr: &s})
	require.NoError(t, err)
	assert.NotContains(t, string(b), testSecret)
	assert.Contains(t, string(b), `"Secret":"[redacted]"`)

	txt, err := s.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "[redacted]", string(txt))

	type holder struct{ S Secret }
	x, err := xml.Marshal(holder{s})
	require.NoError(t, err)
	assert.NotContains(t, string(x), testSecret)

	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		slog.New(h).Info("login", "password", s, "group", slog.GroupValue(slog.Any("s", s)))
	}
	assert.NotContains(t, logs.String(), testSecret)
	assert.Contains(t, logs.String(), "[redacted]")
}

func TestSecretZeroAndEqual(t *testing.T) {
	var zero Secret
	assert.True(t, zero.IsZero())
	assert.True(t, NewSecret("").IsZero())
	assert.Equal(t, "", zero.String())
	assert.Equal(t, "", zero.Reveal())
	assert.True(t, zero.Equal(NewSecret("")))
	assert.True(t, NewSecret("a").Equal(NewSecret("a")))
	assert.False(t, NewSecret("a").Equal(NewSecret("b")))
	assert.False(t, NewSecret("a").Equal(zero))
	b, err := json.Marshal(zero)
	require.NoError(t, err)
	assert.Equal(t, `""`, string(b))
}
