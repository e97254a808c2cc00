package pbs_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pbs"
)

func TestParseUPID(t *testing.T) {
	// The example of upstream's UPID documentation, and a namespaced
	// verify task with an escaped worker id.
	u, err := pbs.ParseUPID("UPID:elsa:00004F37:0039E469:00000000:5CA78B83:garbage_collection::root@pam:")
	require.NoError(t, err)
	assert.Equal(t, "elsa", u.Node)
	assert.Equal(t, uint32(0x4F37), u.PID)
	assert.Equal(t, uint64(0x39E469), u.PStart)
	assert.Equal(t, uint64(0), u.TaskID)
	assert.Equal(t, time.Unix(0x5CA78B83, 0).UTC(), u.StartTime)
	assert.Equal(t, "garbage_collection", u.WorkerType)
	assert.Empty(t, u.WorkerID)
	assert.Equal(t, auth.MustParseAuthid("root@pam"), u.AuthID)

	text := `UPID:pbs-1:000004D2:1162E0A3B:0000000000000003:66608A04:verify_snapshot:store1\x3ans-a-host-web01-66608A00:admin@pbs!tok:`
	u, err = pbs.ParseUPID(text)
	require.NoError(t, err)
	assert.Equal(t, uint64(0x1162E0A3B), u.PStart, "pstart may have 9 digits")
	assert.Equal(t, uint64(3), u.TaskID)
	assert.Equal(t, "store1:ns/a/host/web01/66608A00", u.WorkerID, `"\x3a" is ':', '-' is '/'`)
	assert.Equal(t, "admin@pbs!tok", u.AuthID.String())
	assert.Equal(t, text, u.String(), "the server's text is kept")
	b, err := json.Marshal(u)
	require.NoError(t, err)
	assert.Equal(t, `"`+strings.ReplaceAll(text, `\`, `\\`)+`"`, string(b))
	var back pbs.UPID
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, u, back)
}

func TestUPIDStringOfBuiltValue(t *testing.T) {
	u := pbs.UPID{Node: "localhost", PID: 42, PStart: 7, TaskID: 1, StartTime: time.Unix(1767225600, 0),
		WorkerType: "prune", WorkerID: "store1:a/b:host/web-01", AuthID: auth.MustParseAuthid("alice@pbs")}
	s := u.String()
	assert.Equal(t, `UPID:localhost:0000002A:00000007:00000001:6955B900:prune:store1\x3aa-b\x3ahost-web\x2d01:alice@pbs:`, s)
	back, err := pbs.ParseUPID(s)
	require.NoError(t, err)
	assert.Equal(t, u.WorkerID, back.WorkerID)
	assert.Equal(t, u.StartTime.UTC(), back.StartTime)
	assert.True(t, pbs.UPID{}.IsZero())
	assert.Empty(t, pbs.UPID{}.String())
}

func TestParseUPIDRejects(t *testing.T) {
	for _, s := range []string{
		"",
		"UPID:",
		"PID:n:00000001:00000001:00000001:00000001:t::root@pam:",
		"UPID:n:00000001:00000001:00000001:00000001:t::root@pam",         // no final ':'
		"UPID:-n:00000001:00000001:00000001:00000001:t::root@pam:",       // node
		"UPID:n:0000001:00000001:00000001:00000001:t::root@pam:",         // pid digits
		"UPID:n:00000001:0000000001:00000001:00000001:t::root@pam:",      // pstart digits
		"UPID:n:00000001:00000001:0000001:00000001:t::root@pam:",         // task id digits
		"UPID:n:00000001:00000001:00000001:0000000G:t::root@pam:",        // hex
		"UPID:n:00000001:00000001:00000001:00000001:::root@pam:",         // empty type
		"UPID:n:00000001:00000001:00000001:00000001:t:a b:root@pam:",     // space
		"UPID:n:00000001:00000001:00000001:00000001:t:\\x4:root@pam:",    // short escape
		"UPID:n:00000001:00000001:00000001:00000001:t::not an id:",       // auth id
		"UPID:n:00000001:00000001:00000001:00000001:t:x:y:root@pam:",     // extra field
		"UPID:n:00000001:00000001:00000001:00000001:t:\\xff:root@pam:",   // not UTF-8
		"UPID:n:00000001:00000001:00000001:00000001:t::root@pam:garbage", // trailing
	} {
		_, err := pbs.ParseUPID(s)
		assert.ErrorIs(t, err, pbs.ErrInvalidUPID, "%q", s)
	}
}

func FuzzParseUPID(f *testing.F) {
	f.Add("UPID:elsa:00004F37:0039E469:00000000:5CA78B83:garbage_collection::root@pam:")
	f.Add(`UPID:pbs:000004D2:1162E0A3B:0000000000000003:66608A04:verify:store1\x3ans-a:admin@pbs!tok:`)
	f.Add("UPID:n:00000001:00000001:00000001:00000001:t:\\x2d-:root@pam:")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := pbs.ParseUPID(s)
		if err != nil {
			if u != (pbs.UPID{}) {
				t.Fatalf("error with a non-zero UPID")
			}
			return
		}
		if u.String() != s {
			t.Fatalf("String() = %q, want the input %q", u.String(), s)
		}
		// The canonical encoding of the parsed fields parses back to them.
		built := pbs.UPID{Node: u.Node, PID: u.PID, PStart: u.PStart, TaskID: u.TaskID, StartTime: u.StartTime,
			WorkerType: u.WorkerType, WorkerID: u.WorkerID, AuthID: u.AuthID}
		again, err := pbs.ParseUPID(built.String())
		if err != nil {
			t.Fatalf("re-encoded %q does not parse: %v", built.String(), err)
		}
		if again.WorkerID != u.WorkerID || again.PStart != u.PStart || again.TaskID != u.TaskID || !again.StartTime.Equal(u.StartTime) {
			t.Fatalf("round trip changed %+v to %+v", u, again)
		}
	})
}
