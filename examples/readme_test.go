// Package examples_test keeps the code of README.md true: every Go block
// of the README must appear, line for line, in this file, which compiles
// against the real API, and the tests below run those snippets against the
// mock servers.
package examples_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
	"github.com/proxkit/proxkit/pve"
	"github.com/proxkit/proxkit/pve/pvetest"
)

// TestReadmeCodeIsHere fails when a Go block of README.md is not part of
// this file (compared without indentation), so README code compiles.
func TestReadmeCodeIsHere(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	self, err := os.ReadFile("readme_test.go")
	require.NoError(t, err)
	src := "\n" + normalize(string(self)) + "\n"
	blocks := goBlocks(string(readme))
	require.GreaterOrEqual(t, len(blocks), 6, "README.md has its tour")
	for _, b := range blocks {
		assert.Contains(t, src, "\n"+normalize(b)+"\n", "README block not mirrored in readme_test.go:\n%s", b)
	}
}

// goBlocks returns the contents of the ```go fences of md.
func goBlocks(md string) []string {
	var blocks []string
	for {
		_, rest, ok := strings.Cut(md, "```go\n")
		if !ok {
			return blocks
		}
		block, after, ok := strings.Cut(rest, "```")
		if !ok {
			return blocks
		}
		blocks = append(blocks, strings.TrimRight(block, "\n"))
		md = after
	}
}

// normalize drops indentation and blank lines.
func normalize(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// --- README: "Token header for PVE"

func pveTokenHeader(req *http.Request, fp auth.Fingerprint) (*pve.Client, error) {
	id := auth.MustParseAuthid("automation@pve!ci")
	tok, err := auth.NewToken(id, auth.NewSecret(os.Getenv("PVE_PASSWORD")))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", tok.PVEHeader()) // PVEAPIToken=automation@pve!ci=SECRET

	// Or let the client send it, pinning the server's self-signed certificate:
	c, err := pve.NewClient("https://pve.example.com:8006", pve.WithCredentials(tok), pve.WithFingerprint(fp))
	return c, err
}

func TestReadmePVETokenHeader(t *testing.T) {
	t.Setenv("PVE_PASSWORD", "1f2e3d4c-0000-4000-8000-00000000abcd")
	req, err := http.NewRequest(http.MethodGet, "https://pve.example.com:8006/api2/json/version", nil)
	require.NoError(t, err)
	c, err := pveTokenHeader(req, auth.MustParseFingerprint(strings.Repeat("ab", 32)))
	require.NoError(t, err)
	assert.Equal(t, "PVEAPIToken=automation@pve!ci=1f2e3d4c-0000-4000-8000-00000000abcd", req.Header.Get("Authorization"))
	assert.Equal(t, "https://pve.example.com:8006", c.BaseURL())
}

// --- README: "A PBS client from PBS_REPOSITORY"

func pbsFromEnvironment(ctx context.Context) error {
	// PBS_REPOSITORY=backup@pbs!client@pbs.example.com:store1, PBS_PASSWORD, PBS_FINGERPRINT
	env, err := auth.LoadPBSEnvironment(ctx, nil)
	if err != nil {
		return err
	}
	c, err := pbs.NewClientFromEnvironment(env)
	if err != nil {
		return err
	}
	target := c.Target() // the repository's datastore (and namespace)
	snaps, err := c.Datastore.ListSnapshots(ctx, target.Datastore, target.Namespace, pbs.SnapshotFilter{})
	if err != nil {
		return err // *pbs.Error: errors.Is(err, pbs.ErrForbidden), with a Hint for token mistakes
	}
	fmt.Println(len(snaps), "snapshots")
	return nil
}

func TestReadmePBSFromEnvironment(t *testing.T) {
	srv := pbstest.NewServer(t)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	t.Setenv("PBS_REPOSITORY", srv.AdminToken.ID.String()+"@"+u.Host+":"+srv.Datastore)
	t.Setenv("PBS_PASSWORD", srv.AdminToken.Secret.Reveal())
	t.Setenv("PBS_FINGERPRINT", srv.Fingerprint.String())
	require.NoError(t, pbsFromEnvironment(t.Context()))
}

// --- README: "Grant the least privilege" and "Effective permissions"

func grantLeastPrivilege(ctx context.Context, pbsAdmin *pbs.Client, pveAdmin *pve.Client) error {
	// PBS takes one role for one subject per call. A token is privilege-separated:
	// it gets only what its own entries AND its user's entries grant, so grant both.
	token := auth.MustParseAuthid("backup@pbs!client")
	for _, id := range []auth.Authid{token, token.User().Authid()} {
		err := pbsAdmin.Access.GrantACL(ctx, pbs.ACLUpdate{Path: "/datastore/store1", Role: "DatastoreBackup", AuthID: id})
		if err != nil {
			return err
		}
	}

	// PVE takes several subjects at once.
	monitor := auth.MustParseAuthid("monitor@pve!ci")
	return pveAdmin.Access.Grant(ctx, pve.ACLChange{Path: "/vms/100", Roles: []string{"PVEAuditor"},
		Users: []auth.Userid{monitor.User()}, Tokens: []auth.Authid{monitor}})
}

func effectivePermissions(ctx context.Context, pbsAdmin *pbs.Client) (bool, error) {
	token := auth.MustParseAuthid("backup@pbs!client")
	perms, err := pbsAdmin.Access.GetPermissions(ctx, &pbs.PermissionsOptions{AuthID: token, Path: "/datastore/store1"})
	if err != nil {
		return false, err
	}
	online := perms["/datastore/store1"].Has("Datastore.Backup")

	// The same rules offline, from ACL entries (e.g. from ListACL):
	policy := acl.NewPolicy(auth.PBS)
	for _, id := range []auth.Authid{token, token.User().Authid()} {
		if err := policy.Grant(acl.EntryFor("/datastore/store1", id, "DatastoreBackup", true)); err != nil {
			return false, err
		}
	}
	offline := policy.Privileges(token, "/datastore/store1").Has("Datastore.Backup")
	return online && offline, nil
}

func TestReadmeGrantAndPermissions(t *testing.T) {
	ctx := t.Context()
	pbsSrv, pveSrv := pbstest.NewServer(t), pvetest.NewServer(t)
	pbsAdmin, err := pbs.NewClient(pbsSrv.URL, pbs.WithCredentials(pbsSrv.AdminToken), pbs.WithFingerprint(pbsSrv.Fingerprint))
	require.NoError(t, err)
	pveAdmin, err := pve.NewClient(pveSrv.URL, pve.WithCredentials(pveSrv.AdminToken), pve.WithFingerprint(pveSrv.Fingerprint))
	require.NoError(t, err)
	require.NoError(t, pbsAdmin.Access.CreateUser(ctx, pbs.NewUser{ID: auth.MustParseUserid("backup@pbs")}))
	_, err = pbsAdmin.Access.CreateToken(ctx, auth.MustParseAuthid("backup@pbs!client"), pbs.TokenOptions{})
	require.NoError(t, err)
	require.NoError(t, pveAdmin.Access.CreateUser(ctx, auth.MustParseUserid("monitor@pve"), nil))
	_, err = pveAdmin.Access.CreateToken(ctx, auth.MustParseAuthid("monitor@pve!ci"), nil)
	require.NoError(t, err)

	require.NoError(t, grantLeastPrivilege(ctx, pbsAdmin, pveAdmin))
	ok, err := effectivePermissions(ctx, pbsAdmin)
	require.NoError(t, err)
	assert.True(t, ok)
	perms, err := pveAdmin.Access.Permissions(ctx, &pve.PermissionsOptions{AuthID: auth.MustParseAuthid("monitor@pve!ci"), Path: "/vms/100"})
	require.NoError(t, err)
	assert.True(t, perms["/vms/100"].Has("VM.Audit"))
}

// --- README: "The mock servers in your own tests"

func TestNightlyBackup(t *testing.T) {
	srv := pbstest.NewServer(t) // TLS on loopback, datastore "store1", closed with the test
	c, err := pbs.NewClient(srv.URL, pbs.WithCredentials(srv.AdminToken), pbs.WithFingerprint(srv.Fingerprint))
	require.NoError(t, err)

	snap, err := backupAndRestore(t.Context(), c, strings.NewReader("SELECT 1;\n"), io.Discard)
	require.NoError(t, err)

	// srv.DatastorePath is a real datastore in PBS's layout: check what landed there.
	store, err := datastore.Open(srv.DatastorePath)
	require.NoError(t, err)
	_, _, err = store.ReadManifest(datastore.Namespace{}, snap)
	require.NoError(t, err)
}

// --- README: "A backup and a restore"

func backupAndRestore(ctx context.Context, c *pbs.Client, dump io.Reader, out io.Writer) (datastore.Snapshot, error) {
	s, err := c.StartBackup(ctx, pbs.BackupOptions{Datastore: "store1", Type: datastore.TypeHost, ID: "db01"})
	if err != nil {
		return datastore.Snapshot{}, err
	}
	// Chunked as proxmox-backup-client chunks; chunks of the previous snapshot are not sent again.
	if _, err := s.UploadStream(ctx, "db.sql", dump); err != nil {
		return datastore.Snapshot{}, err // the session is aborted: nothing is left on the server
	}
	res, err := s.Finish(ctx) // the snapshot becomes visible only now
	if err != nil {
		return datastore.Snapshot{}, err
	}
	fmt.Println("stored", res.Snapshot, "with", res.Stats.NewChunks, "new chunks")

	r, err := c.StartReader(ctx, pbs.ReaderOptions{Datastore: "store1", Snapshot: res.Snapshot})
	if err != nil {
		return datastore.Snapshot{}, err
	}
	defer r.Close()
	_, err = r.RestoreArchive(ctx, "db.sql", out) // every chunk checked against its digest
	return res.Snapshot, err
}

func TestReadmeBackupAndRestore(t *testing.T) {
	srv := pbstest.NewServer(t)
	c, err := pbs.NewClient(srv.URL, pbs.WithCredentials(srv.AdminToken), pbs.WithFingerprint(srv.Fingerprint))
	require.NoError(t, err)
	data := bytes.Repeat([]byte("INSERT INTO t VALUES (42);\n"), 200000)
	var out bytes.Buffer
	_, err = backupAndRestore(t.Context(), c, bytes.NewReader(data), &out)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, out.Bytes()))
}
