package pbs_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
)

// Answers as PBS 3.2.4 writes them (member names and optional members per
// pbs-api-types), decoded into the client's types.

func TestDecodeSnapshotInfo(t *testing.T) {
	raw := `{"backup-type":"vm","backup-id":"100","backup-time":1717597476,"comment":"first line",
	"verification":{"upid":"UPID:pbs:00000001:00000002:00000003:66608A04:verify_snapshot:x:root@pam:","state":"failed"},
	"fingerprint":"0e:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:15:9b",
	"files":[{"filename":"drive-scsi0.img.fidx","crypt-mode":"encrypt","size":34359738368},
	{"filename":"index.json.blob","crypt-mode":"sign-only","size":512},{"filename":"client.log.blob"}],
	"size":34359738880,"owner":"alice@pbs!backup","protected":true}`
	var si pbs.SnapshotInfo
	require.NoError(t, json.Unmarshal([]byte(raw), &si))
	assert.Equal(t, "vm/100/2024-06-05T14:24:36Z", si.Snapshot.String())
	assert.Equal(t, "first line", si.Comment)
	require.NotNil(t, si.Verification)
	assert.Equal(t, pbs.VerifyFailed, si.Verification.State)
	assert.Equal(t, "verify_snapshot", si.Verification.UPID.WorkerType)
	assert.Len(t, si.KeyFingerprint, 95)
	require.Len(t, si.Files, 3)
	assert.Equal(t, datastore.CryptEncrypt, si.Files[0].CryptMode)
	assert.Equal(t, uint64(32<<30), *si.Files[0].Size)
	assert.Nil(t, si.Files[2].Size)
	assert.Equal(t, uint64(34359738880), *si.Size)
	assert.Equal(t, auth.MustParseAuthid("alice@pbs!backup"), si.Owner)
	assert.True(t, si.Protected)

	// An unfinished snapshot: names only.
	require.NoError(t, json.Unmarshal([]byte(`{"backup-type":"host","backup-id":"h","backup-time":1,"files":[{"filename":"a.didx"}],"protected":false}`), &si))
	assert.Nil(t, si.Size)
	assert.Nil(t, si.Verification)
	assert.True(t, si.Owner.IsZero())

	for _, bad := range []string{
		`{"backup-type":"disk","backup-id":"h","backup-time":1,"files":[]}`,
		`{"backup-type":"host","backup-id":"-h","backup-time":1,"files":[]}`,
		`{"backup-type":"host","backup-id":"h","files":[]}`,
		`{"backup-type":"host","backup-id":"h","backup-time":1,"files":[],"owner":"nobody"}`,
		`{"backup-type":"host","backup-id":"h","backup-time":1,"files":[{"filename":"x.blob","crypt-mode":"rot13"}]}`,
		`{"backup-type":"host","backup-id":"h","backup-time":1,"files":[{"filename":""}]}`,
		`{"backup-type":"host","backup-id":"h","backup-time":1,"files":[],"verification":{"upid":"nope","state":"ok"}}`,
		`{"backup-type":"host","backup-id":"h","backup-time":1,"files":[],"verification":{"upid":"UPID:pbs:00000001:00000002:00000003:66608A04:verify::root@pam:","state":"meh"}}`,
		`[]`,
	} {
		assert.Error(t, json.Unmarshal([]byte(bad), &si), bad)
	}
}

func TestDecodeGroupAndPruneItems(t *testing.T) {
	var g pbs.GroupInfo
	require.NoError(t, json.Unmarshal([]byte(`{"backup-type":"ct","backup-id":"200","last-backup":1717597476,"backup-count":4,
		"files":["root.pxar.didx","catalog.pcat1.didx","index.json.blob"],"owner":"root@pam","comment":"db"}`), &g))
	assert.Equal(t, datastore.Group{Type: datastore.TypeCT, ID: "200"}, g.Group)
	assert.Equal(t, time.Unix(1717597476, 0).UTC(), g.LastBackup)
	assert.Equal(t, uint64(4), g.BackupCount)
	assert.Len(t, g.Files, 3)
	assert.Equal(t, "db", g.Comment)

	var p pbs.PruneItem
	require.NoError(t, json.Unmarshal([]byte(`{"backup-type":"vm","backup-id":"1","backup-time":86400,"keep":false,"protected":false,"ns":"a/b"}`), &p))
	assert.Equal(t, "a/b", p.Namespace.String())
	assert.False(t, p.Keep)
	assert.Error(t, json.Unmarshal([]byte(`{"backup-type":"vm","backup-id":"1","backup-time":86400,"ns":"a//b"}`), &p))
	assert.Error(t, json.Unmarshal([]byte(`{"backup-type":"vm","backup-id":"1"}`), &p))
}

func TestDecodeDatastoreItems(t *testing.T) {
	var d pbs.DatastoreInfo
	require.NoError(t, json.Unmarshal([]byte(`{"store":"store1","comment":null}`), &d))
	assert.Equal(t, pbs.DatastoreInfo{Store: "store1"}, d)
	require.NoError(t, json.Unmarshal([]byte(`{"store":"s2","comment":"tape","maintenance":"type=read-only,message=moving"}`), &d))
	assert.Equal(t, pbs.DatastoreInfo{Store: "s2", Comment: "tape", Maintenance: "type=read-only,message=moving"}, d)
	assert.Error(t, json.Unmarshal([]byte(`{"comment":"x"}`), &d))

	var u pbs.DatastoreUsage
	require.NoError(t, json.Unmarshal([]byte(`{"store":"store1","total":1000,"used":250,"avail":750,
		"history":[null,0.25,0.5],"history-start":1717000000,"history-delta":86400,"estimated-full-date":0,
		"gc-status":{"upid":null,"index-file-count":0,"index-data-bytes":0,"disk-bytes":0,"disk-chunks":0,
		"removed-bytes":0,"removed-chunks":0,"pending-bytes":0,"pending-chunks":0,"removed-bad":0,"still-bad":0}}`), &u))
	assert.True(t, u.HasUsage)
	assert.Equal(t, uint64(250), u.Used)
	require.Len(t, u.History, 3)
	assert.True(t, math.IsNaN(u.History[0]))
	assert.Equal(t, 0.5, u.History[2])
	assert.Equal(t, 24*time.Hour, u.HistoryDelta)
	assert.Equal(t, time.Unix(0, 0).UTC(), u.EstimatedFullDate, "0 means a date in the past: usage is not growing")
	require.NotNil(t, u.GCStatus)
	assert.Nil(t, u.GCStatus.UPID)

	require.NoError(t, json.Unmarshal([]byte(`{"store":"s","error":"datastore is in maintenance"}`), &u))
	assert.False(t, u.HasUsage)
	assert.Equal(t, "datastore is in maintenance", u.Error)
	assert.Error(t, json.Unmarshal([]byte(`{"store":"s","history-delta":18446744073709551615}`), &u))
}

func TestDecodeTaskStatusAndGC(t *testing.T) {
	var st pbs.TaskStatus
	require.NoError(t, json.Unmarshal([]byte(`{"upid":"UPID:pbs:00000001:00000002:00000003:66608A04:garbage_collection:store1:alice@pbs!gc:",
		"node":"pbs","pid":1,"pstart":2,"starttime":1717602820,"type":"garbage_collection","id":"store1",
		"user":"alice@pbs","tokenid":"gc","status":"stopped","exitstatus":"WARNINGS: 2"}`), &st))
	assert.Equal(t, auth.MustParseAuthid("alice@pbs!gc"), st.User, "user and tokenid join into one auth id")
	assert.True(t, st.Succeeded(), "warnings still succeed")
	assert.NoError(t, st.Err())
	require.NoError(t, json.Unmarshal([]byte(`{"upid":"UPID:pbs:00000001:00000002:00000003:66608A04:verify::root@pam:",
		"node":"pbs","pid":1,"pstart":2,"starttime":1,"type":"verify","id":null,"user":"root@pam","status":"running"}`), &st))
	assert.True(t, st.Running)
	assert.Empty(t, st.ID)
	assert.NoError(t, st.Err(), "a running task has not failed")
	assert.Error(t, json.Unmarshal([]byte(`{"upid":"UPID:pbs:00000001:00000002:00000003:66608A04:verify::root@pam:","user":"root@pam","status":"paused"}`), &st))
	assert.Error(t, json.Unmarshal([]byte(`{"user":"root@pam","status":"running"}`), &st))

	var gc pbs.GCJobStatus
	require.NoError(t, json.Unmarshal([]byte(`{"store":"store1","upid":"UPID:pbs:00000001:00000002:00000003:66608A04:garbage_collection:store1:root@pam:",
		"index-file-count":3,"index-data-bytes":100,"disk-bytes":80,"disk-chunks":4,"removed-bytes":10,"removed-chunks":1,
		"pending-bytes":0,"pending-chunks":0,"removed-bad":0,"still-bad":0,"schedule":"daily","next-run":1717700000,
		"last-run-endtime":1717602830,"last-run-state":"OK","duration":10}`), &gc))
	assert.Equal(t, uint64(4), gc.Status.DiskChunks)
	assert.Equal(t, "daily", gc.Schedule)
	assert.Equal(t, 10*time.Second, gc.Duration)
	assert.Equal(t, time.Unix(1717700000, 0).UTC(), gc.NextRun)
	assert.Error(t, json.Unmarshal([]byte(`{"store":"s","duration":-1}`), &gc))
}

// FuzzDatastoreDecoders feeds arbitrary JSON to every answer type of the
// datastore calls: decoding never panics, and what decodes has valid
// names.
func FuzzDatastoreDecoders(f *testing.F) {
	for _, seed := range []string{
		`{"backup-type":"vm","backup-id":"100","backup-time":1717597476,"files":[{"filename":"a.fidx","crypt-mode":"none","size":1}],"size":1,"owner":"root@pam","protected":true,"verification":{"upid":"UPID:pbs:00000001:00000002:00000003:66608A04:verify::root@pam:","state":"ok"}}`,
		`{"backup-type":"ct","backup-id":"1","last-backup":1,"backup-count":1,"files":[],"owner":"a@pbs!t","comment":"c"}`,
		`{"backup-type":"host","backup-id":"h","backup-time":1,"keep":true,"protected":false,"ns":"a/b"}`,
		`{"store":"s","comment":null,"maintenance":"type=offline"}`,
		`{"store":"s","total":1,"used":1,"avail":0,"history":[null,1.5],"history-start":1,"history-delta":60,"estimated-full-date":-5}`,
		`{"upid":"UPID:pbs:00000001:00000002:00000003:66608A04:verify::root@pam:","user":"root@pam","tokenid":"t","status":"stopped","exitstatus":"boom"}`,
		`{"store":"s","disk-chunks":1,"duration":5,"next-run":7}`,
		`null`, `[]`, `{}`, `"x"`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var si pbs.SnapshotInfo
		if json.Unmarshal(b, &si) == nil && si.Snapshot.Group.Validate() != nil && si.Snapshot != (datastore.Snapshot{}) {
			t.Fatalf("decoded snapshot with invalid group %+v", si.Snapshot)
		}
		var gi pbs.GroupInfo
		if json.Unmarshal(b, &gi) == nil && gi.Group.Validate() != nil && gi.Group != (datastore.Group{}) {
			t.Fatalf("decoded group with invalid name %+v", gi.Group)
		}
		var pi pbs.PruneItem
		_ = json.Unmarshal(b, &pi)
		var di pbs.DatastoreInfo
		_ = json.Unmarshal(b, &di)
		var du pbs.DatastoreUsage
		_ = json.Unmarshal(b, &du)
		var ts pbs.TaskStatus
		if json.Unmarshal(b, &ts) == nil && !ts.UPID.IsZero() {
			_ = ts.Err()
		}
		var gc pbs.GCJobStatus
		if json.Unmarshal(b, &gc) == nil && gc.Duration < 0 {
			t.Fatalf("negative duration %v", gc.Duration)
		}
		var lines []pbs.TaskLogLine
		_ = json.Unmarshal(b, &lines)
	})
}
