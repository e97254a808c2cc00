package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

func TestPathEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice@pbs", "alice@pbs"},
		{"alice@pbs!backup", "alice@pbs!backup"},
		{"store_1.a-b~c", "store_1.a-b~c"},
		{"a/b", "a%2Fb"},
		{"a?b#c", "a%3Fb%23c"},
		{"100%", "100%25"},
		{"with space", "with%20space"},
		{"ü", "%C3%BC"},
		{"a;b,c=d+e", "a%3Bb%2Cc%3Dd%2Be"},
		{".", "%2E"},
		{"..", "%2E%2E"},
		{".hidden", ".hidden"},
		{"", ""},
	}
	for _, tt := range tests {
		got := PathEscape(tt.in)
		assert.Equal(t, tt.want, got, tt.in)
		dec, err := url.PathUnescape(got)
		require.NoError(t, err)
		assert.Equal(t, tt.in, dec, "round trip")
	}
	assert.Equal(t, "/access/users/alice@pbs!x/token/a%2Fb", JoinPath("access", "users", "alice@pbs!x", "token", "a/b"))
	assert.Equal(t, "", JoinPath())
}

// TestIDsReachTheServerIntact: the server sees each escaped id as one
// decoded path segment.
func TestIDsReachTheServerIntact(t *testing.T) {
	ids := []string{"alice@pbs!backup", "we/ird@pve", "sp ace@pve", "x%y@pbs", "ü@pam", "a?b#c", "semi;colon"}
	var mu sync.Mutex
	var got []string
	mux := http.NewServeMux()
	mux.HandleFunc("/api2/json/access/users/{id}/token", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.PathValue("id"))
		mu.Unlock()
		writeData(w, nil, nil)
	})
	srv := newServer(t, auth.PBS, mux.ServeHTTP)
	c := srv.client(pbsTestToken)
	for _, id := range ids {
		require.NoError(t, c.Get(context.Background(), JoinPath("access", "users", id, "token"), nil, nil), id)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, ids, got)
}
