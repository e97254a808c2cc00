package pvetest

import (
	"encoding/json"
	"testing"
)

// FuzzRestoreState feeds arbitrary state files to the loader (without
// starting a server): it must never panic, and a file it accepts must
// survive another save and load unchanged.
func FuzzRestoreState(f *testing.F) {
	f.Add([]byte(`{"version":1,"users":[{"userid":"root@pam","enable":true},{"userid":"a@pve","enable":true,
		"tokens":{"ci":{"privsep":true}}}],"groups":[{"groupid":"g","members":["a@pve"]}],"roles":{"R":["VM.Audit"]},
		"acl":[{"path":"/vms","type":"token","ugid":"a@pve!ci","roleid":"R","propagate":true}],"secrets":{},"passwords":{}}`))
	f.Add([]byte(`{"version":1,"acl":[{"path":"/","type":"group","ugid":"nope","roleid":"R"}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var st stateFile
		if json.Unmarshal(b, &st) != nil {
			return
		}
		s := &Server{}
		s.resetState()
		if s.restore(st) != nil {
			return
		}
		snap := s.snapshotLocked()
		again := &Server{}
		again.resetState()
		if err := again.restore(snap); err != nil {
			t.Fatalf("a saved state does not load: %v", err)
		}
		a, _ := json.Marshal(snap)
		b2, _ := json.Marshal(again.snapshotLocked())
		if string(a) != string(b2) {
			t.Fatalf("state changed on a round trip:\n%s\n%s", a, b2)
		}
	})
}
