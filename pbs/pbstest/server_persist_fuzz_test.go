package pbstest

import (
	"encoding/json"
	"testing"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// FuzzStateFile decodes arbitrary state files: they load or fail with an
// error, never panic, and what loads saves and loads again the same.
func FuzzStateFile(f *testing.F) {
	f.Add([]byte(`{"version":1,"users":[{"id":"a@pbs","enable":false,"expire":5}],"tokens":[{"id":"a@pbs!t"}],` +
		`"acl":[{"path":"/datastore","type":"token","ugid":"a@pbs!t","roleid":"Audit","propagate":true}],"secrets":{},"passwords":{}}`))
	f.Add([]byte(`{"version":1,"acl":[{"path":"/","type":"group","ugid":"g","roleid":"Admin"}]}`))
	f.Add([]byte(`{"version":1,"tokens":[{"id":"a@pbs"}]}`))
	f.Add([]byte(`{"version":1,"secrets":{"a@pbs!t":"00:11"}}`))
	f.Add([]byte(`{"version":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var st stateFile
		if json.Unmarshal(b, &st) != nil {
			return
		}
		s := emptyServer()
		if s.applyState(st) != nil {
			return
		}
		again := emptyServer()
		if err := again.applyState(s.snapshotLocked()); err != nil {
			t.Fatalf("a loaded state does not load again: %v", err)
		}
		if s.userDigestLocked() != again.userDigestLocked() || s.aclDigestLocked() != again.aclDigestLocked() {
			t.Fatal("state changed in a save/load round trip")
		}
	})
}

func emptyServer() *Server {
	return &Server{
		users: map[auth.Userid]*userRecord{}, tokens: map[auth.Authid]*tokenRecord{},
		secrets: mockcore.NewSecretStore(), passwords: mockcore.NewSecretStore(), policy: acl.NewPolicy(auth.PBS),
	}
}
