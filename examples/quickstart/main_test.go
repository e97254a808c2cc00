package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/examples/internal/exampletest"
)

func TestQuickstartTellsTheWholeStory(t *testing.T) {
	res := exampletest.RunApp(t, "quickstart", run, nil, nil)
	require.Equal(t, 0, res.Code, "stderr: %s\nstdout: %s", res.Stderr, res.Stdout)
	assert.Empty(t, res.Stderr)
	out := res.Stdout

	// In the order of the story.
	steps := []string{
		"== PBS mock at https://127.0.0.1:",
		"token backup@pbs!client, secret [redacted]",
		"HTTP 403 Forbidden",
		"hint: a PBS API token needs its own ACL entry",
		"to the token alone: DatastoreBackup on /datastore/store1",
		"HTTP 403 Forbidden",
		"backup@pbs holds nothing on /datastore/store1",
		"The same request: -> ok",
		"server (GET /access/permissions):  Datastore.Backup",
		"offline (auth/acl evaluator):      Datastore.Backup (agrees)",
		`"secret": "[redacted]"`,
		"HTTP 401 Unauthorized",
		"== PVE mock at https://127.0.0.1:",
		"-> VM.Audit on /vms/100: no",
		"to the token alone",
		"-> VM.Audit on /vms/100: no",
		"-> VM.Audit on /vms/100: yes",
		"(agrees)",
		"HTTP 401 Authentication failed!",
		"== Backups to the PBS mock",
		"db.sql.didx: 6.00 MiB in",
		"new, 0 reused)",
		"-> snapshot host/quickstart/",
		"db.sql.didx: 6.00 MiB in 3 chunks (1 new, 2 reused)",
		"disk.img.fidx: 16.00 MiB in 4 chunks (1 new, 3 reused)",
		"db.sql: 6.00 MiB restored",
		"identical to the source",
		"disk.img: 16.00 MiB restored",
		"identical to the source",
		": ok\n",
		": ok\n",
		"task verify_group: OK",
		"Done.",
	}
	rest := out
	for _, s := range steps {
		i := strings.Index(rest, s)
		require.GreaterOrEqual(t, i, 0, "missing, or out of order: %q\n%s", s, out)
		rest = rest[i+len(s):]
	}
	assert.NotRegexp(t, regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), out, "no token secret is printed")
	assert.NotContains(t, out, "DISAGREES")
}
