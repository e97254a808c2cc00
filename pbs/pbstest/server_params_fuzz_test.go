package pbstest

import (
	"testing"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// FuzzAccessParams feeds arbitrary values to the parameter readers of
// the /access methods: they must record a problem or return a valid
// value, never panic.
func FuzzAccessParams(f *testing.F) {
	for _, s := range []string{"alice@pbs", "alice@pbs!t", "a@", "/datastore/store1", "/a//b", "", "x\n", "0", "-1",
		"true", "comment", "ABC", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "é@pbs"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		p := mockcore.NewParams(auth.PBS, map[string][]string{
			"userid": {v}, "auth-id": {v}, "token-name": {v}, "comment": {v}, "firstname": {v},
			"password": {v}, "expire": {v}, "enable": {v}, "digest": {v}, "path": {v}, "role": {v}, "delete": {v, v},
		})
		if u, ok := readUserid(p, "userid"); ok && u.IsZero() {
			t.Fatal("valid userid without value")
		}
		if a, ok := readAuthid(p, "auth-id"); ok && a.IsZero() {
			t.Fatal("valid auth-id without value")
		}
		_, _ = readTokenName(p, "token-name")
		_, _ = readComment(p, "comment")
		_, _ = readNameField(p, "firstname")
		_, _ = readPassword(p, "password")
		if e, ok := readExpire(p, "expire"); ok && *e < 0 {
			t.Fatal("negative expire accepted")
		}
		_, _ = readBool(p, "enable")
		_, _ = readDigest(p)
		_, _ = readACLPath(p, "path")
		_, _ = readEnum(p, "role", func(string) bool { return false })
		_, _ = readDeleteList(p, "comment")
		_ = p.Err()
	})
}
