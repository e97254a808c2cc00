package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/proxkit/proxkit/auth"
)

// userList is a PBS-like user list of n entries with a digest.
func userList(n int) []byte {
	users := make([]map[string]any, n)
	for i := range users {
		users[i] = map[string]any{"userid": fmt.Sprintf("user%d@pbs", i), "enable": true, "expire": 0,
			"comment": "a user", "email": fmt.Sprintf("user%d@example.com", i)}
	}
	b, _ := json.Marshal(map[string]any{"data": users, "digest": "7c2f0e0b4b4a0e2f7c2f0e0b4b4a0e2f7c2f0e0b4b4a0e2f7c2f0e0b4b4a0e2f"})
	return b
}

type benchUser struct {
	Userid  string `json:"userid"`
	Enable  *bool  `json:"enable"`
	Expire  int64  `json:"expire"`
	Comment string `json:"comment"`
	Email   string `json:"email"`
}

func BenchmarkDecodeEnvelope(b *testing.B) {
	body := userList(1000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var users []benchUser
		if _, reason, err := decodeEnvelope(body, &users); reason != "" {
			b.Fatal(reason, err)
		}
	}
}

func BenchmarkEncodeParams(b *testing.B) {
	type update struct {
		Comment *string       `api:"comment"`
		Enable  *bool         `api:"enable"`
		Expire  *time.Time    `api:"expire"`
		Roles   []string      `api:"roles,omitempty"`
		Tokens  []auth.Authid `api:"tokens,omitempty"`
		Secret  auth.Secret   `api:"password,omitempty"`
	}
	c, yes, at := "comment", true, time.Unix(1767225600, 0)
	in := update{Comment: &c, Enable: &yes, Expire: &at, Roles: []string{"Admin", "Audit"},
		Tokens: []auth.Authid{pbsTokenID}, Secret: auth.NewSecret(paramSecret)}
	b.ReportAllocs()
	for b.Loop() {
		v, err := EncodeParams(auth.PBS, in)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(v.Encode(auth.PBS))))
	}
}

func BenchmarkDecodeErrorBody(b *testing.B) {
	body := []byte("parameter verification failed:\n- 'comment': value too long\n- 'expire': expected integer")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_ = decodeErrorBody(400, " Bad Request", body)
	}
}

// BenchmarkGet is one authenticated GET with envelope decoding over a
// kept-alive TLS connection to a local server.
func BenchmarkGet(b *testing.B) {
	body := userList(10)
	srv := newServer(b, auth.PBS, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_, _ = w.Write(body)
	})
	c := srv.client(pbsTestToken)
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var users []benchUser
		if err := c.Get(ctx, "/access/users", nil, &users); err != nil {
			b.Fatal(err)
		}
	}
}
