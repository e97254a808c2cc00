package mockcore

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/proxkit/proxkit/auth"
)

// Mocks run these on every request; the benchmarks keep them cheap.

func BenchmarkParseTokenHeader(b *testing.B) {
	h := "PBSAPIToken john@pbs!client1:" + testSecret
	b.SetBytes(int64(len(h)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseTokenHeader(auth.PBS, h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTicketVerify(b *testing.B) {
	s := NewTicketSigner()
	tk := s.Mint(auth.PVE, auth.MustParseUserid("alice@pve"), t0)
	b.SetBytes(int64(len(tk)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(auth.PVE, tk, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSecretVerify(b *testing.B) {
	st := NewSecretStore()
	id := auth.MustParseAuthid("alice@pbs!ci")
	st.Set(id, testSecret)
	b.SetBytes(int64(len(testSecret)))
	b.ReportAllocs()
	for b.Loop() {
		if !st.Verify(id, testSecret) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkParsePBSParamsJSON(b *testing.B) {
	body := `{"userid":"alice@pbs","comment":"x","enable":true,"expire":0,"email":"a@b.c"}`
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/api2/json/access/users", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		p, err := ParsePBSParams(r)
		if err != nil {
			b.Fatal(err)
		}
		p.RejectUnknown("userid", "comment", "enable", "expire", "email")
		p.BoolOr("enable", true)
		if p.Err() != nil {
			b.Fatal(p.Err())
		}
	}
}
