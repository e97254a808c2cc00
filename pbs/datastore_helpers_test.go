package pbs_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

// dsEnv is a mock PBS with a client holding the admin token and the
// mock's datastore opened with package datastore, which writes the
// snapshots the tests then administer (the backup protocol is tested
// elsewhere).
type dsEnv struct {
	srv   *pbstest.Server
	c     *pbs.Client
	st    *datastore.Store
	store string
}

func newDSEnv(t *testing.T, opts ...pbstest.Option) *dsEnv {
	t.Helper()
	srv := pbstest.NewServer(t, opts...)
	c, err := pbs.NewClient(srv.URL, pbs.WithCredentials(srv.AdminToken), pbs.WithFingerprint(srv.Fingerprint),
		pbs.WithRetryPolicy(pbs.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	st, err := datastore.Open(srv.DatastorePath, datastore.WithSync(datastore.SyncNone))
	require.NoError(t, err)
	return &dsEnv{srv: srv, c: c, st: st, store: srv.Datastore}
}

// dsNS parses a namespace.
func dsNS(t testing.TB, s string) datastore.Namespace {
	t.Helper()
	n, err := datastore.ParseNamespace(s)
	require.NoError(t, err)
	return n
}

// dsSnap parses "type/id/time".
func dsSnap(t testing.TB, s string) datastore.Snapshot {
	t.Helper()
	sn, err := datastore.ParseSnapshot(s)
	require.NoError(t, err)
	return sn
}

// backup writes a finished snapshot owned by owner with a dynamic archive
// "data.didx" (two chunks of payload) and a blob "conf.blob", and returns
// it.
func (e *dsEnv) backup(t testing.TB, namespace, snapshot, owner, payload string) datastore.Snapshot {
	t.Helper()
	sn := dsSnap(t, snapshot)
	w, err := e.st.BeginSnapshot(dsNS(t, namespace), sn, owner)
	require.NoError(t, err)
	enc := datastore.NewBlobEncoder()
	ix, err := w.CreateDynamicIndex("data.didx")
	require.NoError(t, err)
	data := []byte(payload)
	ends := []int{len(data)}
	if len(data) >= 2 {
		ends = []int{len(data) / 2, len(data)}
	}
	start := 0
	for _, end := range ends {
		d, _, err := e.st.InsertData(enc, data[start:end], true)
		require.NoError(t, err)
		require.NoError(t, ix.Append(uint64(end), d))
		start = end
	}
	csum, err := ix.Close()
	require.NoError(t, err)
	blob, err := enc.Encode(nil, []byte("config of "+snapshot), false)
	require.NoError(t, err)
	require.NoError(t, w.WriteBlob("conf.blob", blob))
	m := &datastore.Manifest{BackupType: string(sn.Type), BackupID: sn.ID, BackupTime: sn.Time.Unix(),
		Files: []datastore.ManifestFile{
			{Filename: "data.didx", CryptMode: datastore.CryptNone, Size: uint64(len(data)), Csum: datastore.Digest(csum).String()},
			{Filename: "conf.blob", CryptMode: datastore.CryptNone, Size: uint64(len(blob)), Csum: datastore.ComputeDigest(blob).String()},
		}}
	require.NoError(t, w.Commit(m))
	return sn
}

// createNS creates namespace path component by component through the
// datastore package.
func (e *dsEnv) createNS(t testing.TB, path string) datastore.Namespace {
	t.Helper()
	var cur datastore.Namespace
	for _, c := range dsNS(t, path).Components() {
		var err error
		cur, err = e.st.CreateNamespace(cur, c)
		require.NoError(t, err)
	}
	return cur
}

// dsGrant is one ACL entry for newToken.
type dsGrant struct{ path, role string }

// newToken creates user (if needed) and its token name through the mock's
// access API, gives both the roles (PBS tokens get the intersection of
// their own and their user's privileges) and returns a client for the
// token.
func (e *dsEnv) newToken(t testing.TB, user, name string, grants ...dsGrant) (*pbs.Client, auth.Authid) {
	t.Helper()
	e.accessCall(t, "POST", "/access/users", url.Values{"userid": {user}}, nil, true)
	var created struct {
		Value string `json:"value"`
	}
	e.accessCall(t, "POST", "/access/users/"+user+"/token/"+name, nil, &created, false)
	id := auth.MustParseAuthid(user + "!" + name)
	for _, g := range grants {
		for _, subject := range []string{user, id.String()} {
			e.accessCall(t, "PUT", "/access/acl", url.Values{"path": {g.path}, "role": {g.role}, "auth-id": {subject}}, nil, false)
		}
	}
	tok, err := auth.NewToken(id, auth.NewSecret(created.Value))
	require.NoError(t, err)
	c, err := pbs.NewClient(e.srv.URL, pbs.WithCredentials(tok), pbs.WithFingerprint(e.srv.Fingerprint),
		pbs.WithRetryPolicy(pbs.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	return c, id
}

// accessCall sends one admin request to the mock; tolerateExists accepts
// "already exists" answers (a user created twice).
func (e *dsEnv) accessCall(t testing.TB, method, path string, form url.Values, out any, tolerateExists bool) {
	t.Helper()
	req, err := newRawRequest(e.srv, method, "/api2/json"+path, form.Encode())
	require.NoError(t, err)
	status, body := doRaw(t, e.srv, req)
	if tolerateExists && status == http.StatusBadRequest && strings.Contains(body, "already exist") {
		return
	}
	require.Equal(t, http.StatusOK, status, "%s %s: %s", method, path, body)
	if out != nil {
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &env))
		require.NoError(t, json.Unmarshal(env.Data, out))
	}
}

// dsCtx returns a context for one test call.
func dsCtx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
