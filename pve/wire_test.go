package pve

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
)

func TestFlag(t *testing.T) {
	for in, want := range map[string]bool{
		`1`: true, `"1"`: true, `true`: true, `"true"`: true,
		`0`: false, `"0"`: false, `false`: false, `null`: false, `""`: false,
	} {
		var f flag
		require.NoError(t, json.Unmarshal([]byte(in), &f), in)
		assert.Equal(t, want, bool(f), in)
	}
	for _, in := range []string{`2`, `"yes"`, `[]`, `{}`, `1.5`} {
		var f flag
		assert.Error(t, json.Unmarshal([]byte(in), &f), in)
	}
	var o struct {
		A optFlag `json:"a"`
		B optFlag `json:"b"`
		C optFlag `json:"c"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"a":0,"c":null}`), &o))
	assert.False(t, o.A.or(true), "present 0")
	assert.True(t, o.B.or(true), "absent: the default")
	assert.True(t, o.C.or(true), "null: the default")
}

func TestEpoch(t *testing.T) {
	for in, want := range map[string]time.Time{
		`0`: {}, `null`: {}, `"0"`: {},
		`1700000000`:   time.Unix(1700000000, 0).UTC(),
		`"1700000000"`: time.Unix(1700000000, 0).UTC(),
		`1.7e9`:        time.Unix(1700000000, 0).UTC(),
	} {
		var e epoch
		require.NoError(t, json.Unmarshal([]byte(in), &e), in)
		assert.Equal(t, want, e.time(), in)
	}
	for _, in := range []string{`1.5`, `"x"`, `true`, `[]`, `1e400`} {
		var e epoch
		assert.Error(t, json.Unmarshal([]byte(in), &e), in)
	}
}

func TestIDList(t *testing.T) {
	for in, want := range map[string][]string{
		`"a,b"`: {"a", "b"}, `"a; b c"`: {"a", "b", "c"}, `""`: nil, `null`: nil,
		`["a","b"]`: {"a", "b"}, `[]`: {},
	} {
		var l idList
		require.NoError(t, json.Unmarshal([]byte(in), &l), in)
		assert.Equal(t, want, []string(l), in)
	}
	var l idList
	assert.Error(t, json.Unmarshal([]byte(`[1]`), &l))
	assert.Error(t, json.Unmarshal([]byte(`{}`), &l))
}

// The answers of both user endpoints decode into the same User.
func TestUserShapes(t *testing.T) {
	list := `[{"userid":"a@pve","enable":1,"expire":0,"groups":"x,y","tokens":[{"tokenid":"t1","privsep":"0","expire":5}],
		"realm-type":"pve","totp-locked":1,"tfa-locked-until":7}]`
	var rows []wireUser
	require.NoError(t, json.Unmarshal([]byte(list), &rows))
	users, err := decodeUserList(rows)
	require.NoError(t, err)
	id := auth.MustParseAuthid("a@pve!t1")
	assert.Equal(t, []User{{
		ID: auth.MustParseUserid("a@pve"), Enable: true, Groups: []string{"x", "y"},
		Tokens:    []Token{{ID: id, Privsep: false, Expire: time.Unix(5, 0).UTC()}},
		RealmType: "pve", TOTPLocked: true, TFALockedUntil: time.Unix(7, 0).UTC(),
	}}, users)

	var one wireUser
	require.NoError(t, json.Unmarshal([]byte(`{"enable":0,"groups":["y","x"],"tokens":{"t1":{"privsep":0,"expire":5}}}`), &one))
	u, err := one.user(auth.MustParseUserid("a@pve"))
	require.NoError(t, err)
	assert.Equal(t, []string{"x", "y"}, u.Groups)
	assert.Equal(t, users[0].Tokens, u.Tokens)
	assert.False(t, u.Enable)

	for _, bad := range []string{
		`[{"userid":"nope"}]`, `[{"userid":"a@pve","tokens":[{"tokenid":"bad name"}]}]`,
		`[{"userid":"a@pve","tokens":"x"}]`, `[{"userid":"a@pve","enable":"maybe"}]`,
	} {
		var rows []wireUser
		err := json.Unmarshal([]byte(bad), &rows)
		if err == nil {
			_, err = decodeUserList(rows)
		}
		assert.Error(t, err, bad)
	}
}

func TestSecretResult(t *testing.T) {
	id := auth.MustParseAuthid("a@pve!t1")
	_, err := secretResult(id, "a@pve!t1", nil, wireToken{})
	assert.ErrorIs(t, err, ErrMalformedResponse, "no secret")
	v := "s"
	_, err = secretResult(id, "b@pve!t1", &v, wireToken{})
	assert.ErrorIs(t, err, ErrMalformedResponse, "another token")
	got, err := secretResult(id, "", &v, wireToken{})
	require.NoError(t, err)
	assert.Equal(t, "s", got.Secret.Reveal())
	assert.True(t, got.Privsep)
}

func TestACLRows(t *testing.T) {
	var rows []wireACL
	require.NoError(t, json.Unmarshal([]byte(`[{"path":"/","type":"group","ugid":"g","roleid":"R","propagate":0},
		{"path":"/vms","type":"token","ugid":"a@pve!t","roleid":"R"}]`), &rows))
	entries, err := decodeACL(rows)
	require.NoError(t, err)
	assert.Equal(t, []acl.Entry{
		{Path: "/", Type: acl.Group, Subject: "g", Role: "R"},
		{Path: "/vms", Type: acl.Token, Subject: "a@pve!t", Role: "R", Propagate: true},
	}, entries)
	_, err = decodeACL([]wireACL{{Path: "/", Type: "pool", UGID: "x", RoleID: "R"}})
	assert.ErrorIs(t, err, ErrMalformedResponse)
	_, err = decodeACL([]wireACL{{Path: "/", Type: "user"}})
	assert.ErrorIs(t, err, ErrMalformedResponse)
}

// decodeAll runs every decoder of the package on b; it must never panic.
func decodeAll(b []byte) {
	var users []wireUser
	if json.Unmarshal(b, &users) == nil {
		_, _ = decodeUserList(users)
	}
	var user wireUser
	if json.Unmarshal(b, &user) == nil {
		_, _ = user.user(auth.MustParseUserid("a@pve"))
	}
	var tokens []wireToken
	if json.Unmarshal(b, &tokens) == nil {
		_, _ = decodeTokenList(auth.MustParseUserid("a@pve"), tokens)
	}
	var created createdToken
	if json.Unmarshal(b, &created) == nil {
		_, _ = secretResult(auth.MustParseAuthid("a@pve!t1"), created.FullTokenID, created.Value, created.Info)
	}
	var rows []wireACL
	if json.Unmarshal(b, &rows) == nil {
		_, _ = decodeACL(rows)
	}
	var roles []wireRole
	if json.Unmarshal(b, &roles) == nil {
		_, _ = decodeRoles(roles)
	}
	var role map[string]flag
	if json.Unmarshal(b, &role) == nil {
		_ = decodeRole("R", role)
	}
	var groups []wireGroup
	if json.Unmarshal(b, &groups) == nil {
		_, _ = decodeGroups(groups)
	}
	var group wireGroup
	if json.Unmarshal(b, &group) == nil {
		_, _ = group.group("g")
	}
	var perms map[string]map[string]flag
	if json.Unmarshal(b, &perms) == nil {
		_ = decodePermissions(perms)
	}
}

// FuzzDecode feeds arbitrary answers to every response decoder of the
// package (users, tokens, created tokens, ACL rows, roles, groups,
// permissions): none may panic, bad input is an error.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`[{"userid":"a@pve","enable":1,"expire":0,"groups":"x,y","tokens":[{"tokenid":"t1","privsep":1,"expire":0}]}]`,
		`{"enable":1,"groups":["x"],"tokens":{"t1":{"privsep":0,"expire":"17","comment":"c"}}}`,
		`{"full-tokenid":"a@pve!t1","info":{"privsep":1},"value":"00000000-0000-4000-8000-000000000000"}`,
		`[{"path":"/vms","type":"user","ugid":"a@pve","roleid":"PVEAuditor","propagate":1}]`,
		`[{"roleid":"R","privs":"VM.Audit,VM.Backup","special":0}]`, `{"VM.Audit":1}`,
		`[{"groupid":"g","users":"a@pve,b@pve","comment":"c"}]`, `{"members":["a@pve"]}`,
		`{"/vms":{"VM.Audit":1,"VM.Backup":0}}`, `null`, `[]`, `{}`, `1e999`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeAll(b)
	})
}

func FuzzPrimitives(f *testing.F) {
	for _, s := range []string{`1`, `"0"`, `1.7e9`, `"a,b"`, `["a"]`, `null`, `-1`, `"9999999999999999999999"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fl flag
		_ = fl.UnmarshalJSON(b)
		var o optFlag
		_ = o.UnmarshalJSON(b)
		var e epoch
		if e.UnmarshalJSON(b) == nil {
			_ = e.time()
		}
		var l idList
		_ = l.UnmarshalJSON(b)
	})
}
