package acl

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

func TestNormalizePathPVE(t *testing.T) {
	cases := []struct {
		in, want string
		bad      bool
	}{
		{in: "/", want: "/"},
		{in: "//", want: "/"},
		{in: "///", want: "/"},
		{in: "vms", want: "/vms"},
		{in: "/vms/", want: "/vms"},
		{in: "//vms//100//", want: "/vms/100"},
		{in: "vms/100/", want: "/vms/100"},
		{in: "/storage/local-lvm", want: "/storage/local-lvm"},
		{in: "/pool/a.b_c-d/e", want: "/pool/a.b_c-d/e"},
		{in: "/vms/..", want: "/vms/.."}, // a name like any other to PVE
		{in: "", bad: true},
		{in: "0", bad: true}, // Perl's false
		{in: "/vms/100 ", bad: true},
		{in: "/vms/1\n", bad: true},
		{in: "/vms/ä", bad: true},
		{in: "/vms:100", bad: true},
		{in: "/@", bad: true},
		{in: "00", want: "/00"},
	}
	for _, c := range cases {
		got, err := NormalizePath(auth.PVE, c.in)
		if c.bad {
			require.Error(t, err, "%q", c.in)
			assert.ErrorIs(t, err, ErrInvalidPath)
			var pe *PathError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, auth.PVE, pe.Product)
			assert.Equal(t, c.in, pe.Path)
			assert.NotEmpty(t, pe.Reason)
			continue
		}
		require.NoError(t, err, "%q", c.in)
		assert.Equal(t, c.want, got, "%q", c.in)
	}
}

func TestNormalizePathPBS(t *testing.T) {
	good := []string{"/", "/datastore", "/datastore/store1/ns1", "/_x/a.b-c", "/1/2", "/" + strings.Repeat("a", 127)}
	for _, in := range good {
		got, err := NormalizePath(auth.PBS, in)
		require.NoError(t, err, "%q", in)
		assert.Equal(t, in, got)
	}
	bad := map[string]string{
		"":                               "empty",
		"datastore":                      "must start with '/'",
		"/datastore/":                    "trailing '/'",
		"//":                             "trailing '/'",
		"/datastore//x":                  "empty component",
		"/.hidden":                       "must start with a letter",
		"/-x":                            "must start with a letter",
		"/a b":                           "may only contain",
		"/" + strings.Repeat("a", 128):   "longer than 128",
		"/datastore/st:ore":              "may only contain",
		"/datastore/\u00e4":              "must start with",
		"/datastore/store1/ns1/":         "trailing",
		"/remote/r1/store/" + "\x00":     "must start with",
		"/system/network/interfaces/e\n": "may only contain",
	}
	for in, reason := range bad {
		_, err := NormalizePath(auth.PBS, in)
		require.Error(t, err, "%q", in)
		assert.ErrorIs(t, err, ErrInvalidPath)
		assert.Contains(t, err.Error(), reason, "%q", in)
	}
}

func TestValidatePathPVE(t *testing.T) {
	good := []string{
		"/", "/access", "/access/groups", "/access/groups/admins", "/access/realm", "/access/realm/pve",
		"/nodes", "/nodes/pve1", "/pool", "/pool/dev", "/pool/dev/team", "/pool/dev/team/x",
		"/sdn", "/sdn/controllers", "/sdn/controllers/ctl_1-a", "/sdn/dns", "/sdn/dns/pdns1",
		"/sdn/fabrics/f1", "/sdn/ipams/pve", "/sdn/prefix-lists/pl1", "/sdn/route-maps/rm1",
		"/sdn/zones", "/sdn/zones/z1", "/sdn/zones/z1/vnet1", "/sdn/zones/z1/vnet1/1", "/sdn/zones/z1/vnet1/9999",
		"/storage", "/storage/local", "/vms", "/vms/100", "/vms/999999999",
		"/mapping", "/mapping/pci", "/mapping/pci/gpu0",
		"vms/100/", "//storage//local", // normalized first
	}
	for _, in := range good {
		assert.NoError(t, ValidatePath(auth.PVE, in), "%q", in)
	}
	bad := map[string]string{
		"/users":                      "unknown component \"users\" below /",
		"/vms/99":                     "not a VM id",
		"/vms/0100":                   "not a VM id",
		"/vms/100/disk":               "too deep",
		"/vms/abc":                    "not a VM id",
		"/access/users":               "unknown component \"users\" below /access",
		"/access/groups/a/b":          "too deep",
		"/nodes/n1/qemu":              "too deep",
		"/pool/a/b/c/d":               "max 3 levels",
		"/sdn/zones/z/v/0":            "VLAN",
		"/sdn/zones/z/v/10000":        "VLAN",
		"/sdn/zones/z/v/1/2":          "too deep",
		"/sdn/dns/a.b":                "letters and digits",
		"/sdn/controllers/a.b":        "controller",
		"/sdn/vnets":                  "unknown component",
		"/sdn/ipams/a/b":              "too deep",
		"/mapping/pci/gpu0/function1": "too deep",
		"/storage/a/b":                "too deep",
		"":                            "empty",
		"/vms/1 0":                    "not allowed",
	}
	for in, reason := range bad {
		err := ValidatePath(auth.PVE, in)
		require.Error(t, err, "%q", in)
		assert.ErrorIs(t, err, ErrInvalidPath)
		assert.Contains(t, err.Error(), reason, "%q", in)
	}
}

func TestValidatePathPBS(t *testing.T) {
	good := []string{
		"/", "/access", "/access/acl", "/access/users", "/access/domains", "/access/openid", "/access/openid/ep1",
		"/datastore", "/datastore/store1", "/datastore/store1/a/b/c/d/e/f/g",
		"/remote", "/remote/r1", "/remote/r1/store1",
		"/system", "/system/certificates", "/system/disks", "/system/log", "/system/notifications",
		"/system/status", "/system/tasks", "/system/time", "/system/services", "/system/services/proxmox-backup",
		"/system/network", "/system/network/dns", "/system/network/interfaces", "/system/network/interfaces/eth0",
		"/tape", "/tape/device", "/tape/device/drive0", "/tape/pool", "/tape/pool/p1", "/tape/job", "/tape/job/j1",
	}
	for _, in := range good {
		assert.NoError(t, ValidatePath(auth.PBS, in), "%q", in)
	}
	bad := map[string]string{
		"/storage":                           "unknown component \"storage\" below /",
		"/datastore/store1/a/b/c/d/e/f/g/h":  "at most 7 namespace levels",
		"/remote/r1/store1/ns":               "too deep",
		"/access/acl/x":                      "no components below it",
		"/access/tfa":                        "unknown component",
		"/access/openid/a/b":                 "too deep",
		"/system/foo":                        "unknown component",
		"/system/log/x":                      "too deep",
		"/system/services/a/b":               "too deep",
		"/system/network/routes":             "unknown component",
		"/system/network/dns/x":              "too deep",
		"/system/network/interfaces/eth0/ip": "too deep",
		"/tape/changer":                      "unknown component",
		"/tape/job/j1/x":                     "too deep",
		"/datastore/":                        "trailing",
		"datastore":                          "must start with '/'",
	}
	for in, reason := range bad {
		err := ValidatePath(auth.PBS, in)
		require.Error(t, err, "%q", in)
		assert.ErrorIs(t, err, ErrInvalidPath)
		assert.Contains(t, err.Error(), reason, "%q", in)
	}
}

// pveCheckPath is PVE's list of valid ACL paths (access-api.md 4.3)
// written as one regular expression, an oracle independent of the
// component matcher in path.go.
var pveCheckPath = regexp.MustCompile(`^(?:/` +
	`|/access|/access/groups|/access/groups/[A-Za-z0-9._-]+|/access/realm|/access/realm/[A-Za-z0-9._-]+` +
	`|/nodes|/nodes/[A-Za-z0-9._-]+` +
	`|/pool|/pool/[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+){0,2}` +
	`|/sdn|/sdn/controllers|/sdn/controllers/[A-Za-z0-9_-]+` +
	`|/sdn/dns|/sdn/dns/[A-Za-z0-9]+|/sdn/fabrics|/sdn/fabrics/[A-Za-z0-9]+` +
	`|/sdn/ipams|/sdn/ipams/[A-Za-z0-9]+|/sdn/prefix-lists|/sdn/prefix-lists/[A-Za-z0-9]+` +
	`|/sdn/route-maps|/sdn/route-maps/[A-Za-z0-9]+` +
	`|/sdn/zones|/sdn/zones/[A-Za-z0-9._-]+|/sdn/zones/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+` +
	`|/sdn/zones/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+/[1-9][0-9]{0,3}` +
	`|/storage|/storage/[A-Za-z0-9._-]+` +
	`|/vms|/vms/[1-9][0-9]{2,}` +
	`|/mapping|/mapping/[A-Za-z0-9._-]+|/mapping/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+` +
	`)$`)

// pbsCheckPath is PBS's component structure as a regular expression.
var pbsCheckPath = regexp.MustCompile(`^(?:/` +
	`|/access|/access/(?:acl|users|domains)|/access/openid(?:/[^/]+)?` +
	`|/datastore(?:/[^/]+){0,8}` +
	`|/remote(?:/[^/]+){0,2}` +
	`|/system|/system/(?:certificates|disks|log|notifications|status|tasks|time)|/system/services(?:/[^/]+)?` +
	`|/system/network|/system/network/dns|/system/network/interfaces(?:/[^/]+)?` +
	`|/tape|/tape/(?:device|pool|job)(?:/[^/]+)?` +
	`)$`)

// TestValidatePathMatchesOracle walks every path built from a vocabulary
// of components up to three deep and compares with the regular expressions.
func TestValidatePathMatchesOracle(t *testing.T) {
	vocab := []string{"access", "groups", "realm", "nodes", "pool", "sdn", "controllers", "dns", "fabrics",
		"ipams", "prefix-lists", "route-maps", "zones", "storage", "vms", "mapping", "100", "99", "0100",
		"1", "9999", "10000", "a.b", "a_b", "x", "acl", "users", "domains", "openid", "datastore", "remote",
		"system", "certificates", "log", "services", "network", "interfaces", "tape", "device", "job"}
	var walk func(prefix string, depth int)
	count := 0
	walk = func(prefix string, depth int) {
		path := prefix
		if path == "" {
			path = "/"
		}
		count++
		assert.Equal(t, pveCheckPath.MatchString(path), ValidatePath(auth.PVE, path) == nil, "PVE %s", path)
		assert.Equal(t, pbsCheckPath.MatchString(path), ValidatePath(auth.PBS, path) == nil, "PBS %s", path)
		if depth == 0 {
			return
		}
		for _, c := range vocab {
			walk(prefix+"/"+c, depth-1)
		}
	}
	walk("", 3)
	t.Logf("%d paths compared", count)
	// Deeper datastore namespaces exercise the PBS limit.
	deep := "/datastore/s"
	for i := 1; i <= 9; i++ {
		deep += "/n"
		assert.Equal(t, pbsCheckPath.MatchString(deep), ValidatePath(auth.PBS, deep) == nil, deep)
	}
}

func TestPathErrorTruncatesLongInput(t *testing.T) {
	err := ValidatePath(auth.PBS, "/"+strings.Repeat("a", 5000))
	var pe *PathError
	require.True(t, errors.As(err, &pe))
	assert.Less(t, len(pe.Path), 300)
}
