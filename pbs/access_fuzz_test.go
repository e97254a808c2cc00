package pbs

import (
	"encoding/json"
	"testing"

	"github.com/proxkit/proxkit/auth"
)

// The decoders of /access answers must reject what does not fit with an
// error, never panic, and never produce objects without an id.

func FuzzUserJSON(f *testing.F) {
	f.Add([]byte(`{"userid":"alice@pbs","enable":false,"expire":2000000000,"tokens":[{"tokenid":"alice@pbs!t"}]}`))
	f.Add([]byte(`{"userid":"root@pam","comment":"Superuser","totp-locked":true,"tfa-locked-until":5}`))
	f.Add([]byte(`{"userid":"a@pbs","tokens":[{"tokenid":"b@pbs!t"}]}`))
	f.Add([]byte(`{"userid":"x"}`))
	f.Add([]byte(`{"userid":"a@pbs","expire":-1,"enable":"yes"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var u User
		if err := json.Unmarshal(b, &u); err != nil {
			return
		}
		if u.ID.IsZero() {
			t.Fatalf("decoded a user without id from %q", b)
		}
		for _, tok := range u.Tokens {
			if !tok.ID.IsToken() || tok.ID.User() != u.ID {
				t.Fatalf("token %v does not belong to %v", tok.ID, u.ID)
			}
		}
	})
}

func FuzzTokenJSON(f *testing.F) {
	f.Add([]byte(`{"token-name":"t","tokenid":"alice@pbs!t","comment":"c","enable":true,"expire":0}`))
	f.Add([]byte(`{"tokenid":"alice@pbs"}`))
	f.Add([]byte(`{"token-name":"u","tokenid":"alice@pbs!t"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var tok Token
		if err := json.Unmarshal(b, &tok); err != nil {
			return
		}
		if !tok.ID.IsToken() {
			t.Fatalf("decoded a token with id %q from %q", tok.ID, b)
		}
	})
}

func FuzzACLEntryJSON(f *testing.F) {
	f.Add([]byte(`{"path":"/","ugid":"root@pam!admin","ugid_type":"user","propagate":true,"roleid":"Admin"}`))
	f.Add([]byte(`{"path":"/","ugid":"admins","ugid_type":"group","propagate":false,"roleid":"Audit"}`))
	f.Add([]byte(`{"path":"/","ugid":"x","ugid_type":"token","roleid":"Audit"}`))
	f.Add([]byte(`{"path":"","ugid":"","roleid":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e ACLEntry
		if err := json.Unmarshal(b, &e); err != nil {
			return
		}
		if e.AuthID.IsZero() == (e.Group == "") {
			t.Fatalf("entry must name exactly one subject: %+v from %q", e, b)
		}
		_ = e.Entry()
	})
}

func FuzzTokenSecretJSON(f *testing.F) {
	f.Add([]byte(`{"tokenid":"a@pbs!t","value":"d63e505a-e3ec-449a-9bc7-1da610d4ccde"}`))
	f.Add([]byte(`{"secret":"s"}`))
	f.Add([]byte(`{"tokenid":"b@pbs!t","value":"s"}`))
	f.Add([]byte(`{"value":""}`))
	want := auth.MustParseAuthid("a@pbs!t")
	f.Fuzz(func(t *testing.T, b []byte) {
		var ts tokenSecret
		if err := json.Unmarshal(b, &ts); err != nil {
			return
		}
		ct, err := ts.created(want)
		if err != nil {
			return
		}
		if ct.ID != want || ct.Secret.IsZero() {
			t.Fatalf("created token %v with empty secret or wrong id from %q", ct.ID, b)
		}
	})
}

func FuzzPermissionsJSON(f *testing.F) {
	f.Add([]byte(`{"/":{"Sys.Audit":true},"/datastore":{"Datastore.Backup":false}}`))
	f.Add([]byte(`{"/":{"Sys.Audit":1}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Permissions
		_ = json.Unmarshal(b, &p)
	})
}
