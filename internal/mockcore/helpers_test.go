package mockcore

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// jsonField returns data.<name> of a {"data": {...}} reply as a string.
func jsonField(t *testing.T, body, name string) string {
	t.Helper()
	var env struct {
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &env), body)
	s, _ := env.Data[name].(string)
	require.NotEmpty(t, s, "field %s in %s", name, body)
	return s
}

func contextWithArrival(r *http.Request, at time.Time) context.Context {
	return context.WithValue(r.Context(), arrivalKey{}, at)
}

func contextWithCancel(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithCancel(r.Context())
}
