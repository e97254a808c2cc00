package httpapi

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

func TestValuesOrderAndEncoding(t *testing.T) {
	var v Values
	v.Set("userid", "alice@pbs")
	v.SetBool("enable", true)
	v.SetInt("expire", 0)
	v.SetList("roles", []string{"Admin", "Audit"})
	v.Set("comment", "a b&c=d/ü")
	v.SetBool("enable", false) // replaces, keeps position
	v.AddDelete("email")
	v.AddDelete("firstname", "email")

	assert.Equal(t, []string{"userid", "enable", "expire", "roles", "comment", "delete"}, v.Keys())
	assert.Equal(t, 6, v.Len())
	assert.Equal(t,
		"userid=alice%40pbs&enable=0&expire=0&roles=Admin%2CAudit&comment=a%20b%26c%3Dd%2F%C3%BC&delete=email%2Cfirstname",
		v.Encode(auth.PVE))
	assert.Equal(t,
		"userid=alice%40pbs&enable=0&expire=0&roles=Admin&roles=Audit&comment=a%20b%26c%3Dd%2F%C3%BC&delete=email&delete=firstname",
		v.Encode(auth.PBS))

	// Both servers decode standard form encoding.
	q, err := url.ParseQuery(v.Encode(auth.PBS))
	require.NoError(t, err)
	assert.Equal(t, []string{"Admin", "Audit"}, q["roles"])
	assert.Equal(t, "a b&c=d/ü", q.Get("comment"))

	got, ok := v.Get("roles")
	assert.True(t, ok)
	assert.Equal(t, "Admin,Audit", got)
	assert.Equal(t, []string{"email", "firstname"}, v.List("delete"))
	assert.True(t, v.Has("expire"))
	v.Del("expire")
	assert.False(t, v.Has("expire"))
	_, ok = v.Get("expire")
	assert.False(t, ok)
	assert.Nil(t, v.List("expire"))
}

func TestValuesEmptyList(t *testing.T) {
	var v Values
	v.SetList("groups", nil)
	assert.Equal(t, "groups=", v.Encode(auth.PVE), "PVE reads an empty list as 'clear'")
	assert.Equal(t, "", v.Encode(auth.PBS))
}

func TestValuesMerge(t *testing.T) {
	var a, b Values
	a.Set("x", "1")
	a.Set("y", "2")
	b.Set("y", "3")
	b.SetSecret("password", auth.NewSecret(paramSecret))
	a.Merge(b)
	assert.Equal(t, "x=1&y=3&password=[redacted]", a.String())
	b.Set("y", "4")
	got, _ := a.Get("y")
	assert.Equal(t, "3", got, "Merge copies")
}

func TestValuesNeverPrintSecrets(t *testing.T) {
	var v Values
	v.Set("userid", "bob@pbs")
	v.SetSecret("password", auth.NewSecret(paramSecret))
	for _, s := range []string{v.String(), fmt.Sprint(v), fmt.Sprintf("%v %+v %#v %s %q %x", v, v, v, v, v, v),
		fmt.Sprintf("%v", &v), fmt.Sprintf("%+v", struct{ P Values }{v})} {
		assert.NotContains(t, s, paramSecret)
	}
	assert.Contains(t, v.String(), "password=[redacted]")
	assert.Contains(t, v.Encode(auth.PBS), "password="+paramSecret, "the wire gets the value")
	assert.Equal(t, []string{paramSecret}, v.secrets())
}

type embeddedCommon struct {
	Comment *string `api:"comment"`
}

type userUpdate struct {
	embeddedCommon
	Enable    *bool      `api:"enable"`
	Expire    *time.Time `api:"expire"`
	Email     string     `api:"email,omitempty"`
	Firstname string     `api:"firstname"`
	Groups    *[]string  `api:"groups"`
	Keys      []string   `api:"keys,omitempty"`
	Delete    []string   `api:"delete,omitempty"`
	Digest    string     `api:"digest,omitempty"`
	Skipped   string     `api:"-"`
	internal  string
}

func ptr[T any](v T) *T { return &v }

func TestEncodeParams(t *testing.T) {
	at := time.Unix(1767225600, 0).In(time.FixedZone("x", 3600))
	tests := []struct {
		name   string
		in     any
		pve    string
		pbs    string
		errHas string
	}{
		{name: "nil", in: nil},
		{name: "nil pointer", in: (*userUpdate)(nil)},
		{name: "nothing set but a plain field", in: userUpdate{internal: "x", Skipped: "y"}, pve: "firstname=", pbs: "firstname="},
		{name: "explicit zero values", in: userUpdate{Enable: ptr(false), Expire: &time.Time{}, embeddedCommon: embeddedCommon{Comment: ptr("")}},
			pve: "comment=&enable=0&expire=0&firstname=", pbs: "comment=&enable=0&expire=0&firstname="},
		{name: "values", in: &userUpdate{Enable: ptr(true), Expire: &at, Email: "a@b", Keys: []string{"k1", "k2"},
			Delete: []string{"comment"}, Digest: "abc"},
			pve: "enable=1&expire=1767225600&email=a%40b&firstname=&keys=k1%2Ck2&delete=comment&digest=abc",
			pbs: "enable=1&expire=1767225600&email=a%40b&firstname=&keys=k1&keys=k2&delete=comment&digest=abc"},
		{name: "empty list through a pointer", in: userUpdate{Groups: &[]string{}}, pve: "firstname=&groups=", pbs: "firstname="},
		{name: "Values pass through", in: func() Values { var v Values; v.Set("a", "b"); return v }(), pve: "a=b", pbs: "a=b"},
		{name: "not a struct", in: 42, errHas: "not a struct"},
		{name: "untagged", in: struct{ Name string }{"x"}, errHas: "Name has no `api` tag"},
		{name: "empty name", in: struct {
			N string `api:",omitempty"`
		}{"x"}, errHas: "empty parameter name"},
		{name: "unknown option", in: struct {
			N string `api:"n,omitnil"`
		}{"x"}, errHas: "unknown tag option"},
		{name: "map", in: struct {
			M map[string]string `api:"m"`
		}{map[string]string{"a": "b"}}, errHas: "unsupported type"},
		{name: "nested struct", in: struct {
			S struct{ A int } `api:"s"`
		}{}, errHas: "unsupported type"},
		{name: "secret in a list", in: struct {
			S []auth.Secret `api:"s"`
		}{[]auth.Secret{auth.NewSecret(paramSecret)}}, errHas: "secret inside a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range []auth.Product{auth.PVE, auth.PBS} {
				v, err := EncodeParams(p, tt.in)
				if tt.errHas != "" {
					require.ErrorIs(t, err, ErrInvalidRequest)
					assert.Contains(t, err.Error(), tt.errHas)
					assert.NotContains(t, err.Error(), paramSecret)
					continue
				}
				require.NoError(t, err)
				want := tt.pve
				if p == auth.PBS {
					want = tt.pbs
				}
				assert.Equal(t, want, v.Encode(p), p.String())
			}
		})
	}
	_, err := EncodeParams(auth.Product(0), userUpdate{})
	assert.ErrorIs(t, err, ErrInvalidRequest)
}

// TestEncodeParamsUpdateSendsOnlySetFields is the privsep regression: a
// token update that only changes the comment must not send privsep=0.
func TestEncodeParamsUpdateSendsOnlySetFields(t *testing.T) {
	type tokenUpdate struct {
		Comment *string    `api:"comment"`
		Expire  *time.Time `api:"expire"`
		Privsep *bool      `api:"privsep"`
	}
	v, err := EncodeParams(auth.PVE, tokenUpdate{Comment: ptr("rotated")})
	require.NoError(t, err)
	assert.Equal(t, []string{"comment"}, v.Keys())
	assert.False(t, v.Has("privsep"))

	v, err = EncodeParams(auth.PVE, tokenUpdate{Privsep: ptr(false)})
	require.NoError(t, err)
	assert.Equal(t, "privsep=0", v.Encode(auth.PVE), "an explicit false is sent")
}

type level int

func (l level) String() string { return fmt.Sprintf("L%d", int(l)) }

type textOnPointer struct{ v string }

func (t *textOnPointer) MarshalText() ([]byte, error) { return []byte("T:" + t.v), nil }

func TestEncodeParamsTypes(t *testing.T) {
	type all struct {
		Authid   auth.Authid   `api:"auth-id"`
		Userid   auth.Userid   `api:"userid"`
		Realm    auth.Realm    `api:"realm"`
		Tokens   []auth.Authid `api:"tokens"`
		Secret   auth.Secret   `api:"password,omitempty"`
		NoSecret auth.Secret   `api:"nosecret,omitempty"`
		Level    level         `api:"level"`
		Text     textOnPointer `api:"text"`
		Int8     int8          `api:"i8"`
		Uint     uint64        `api:"u"`
		Float    float64       `api:"f"`
		Iface    any           `api:"iface"`
		NilIface any           `api:"niliface"`
		When     time.Time     `api:"when,omitempty"`
		Times    []time.Time   `api:"times"`
		Ints     []int         `api:"ints"`
		Array    [2]string     `api:"arr"`
	}
	in := all{
		Authid: pbsTokenID, Userid: auth.MustParseUserid("bob@pbs"), Realm: "pbs",
		Tokens: []auth.Authid{pbsTokenID, pveTokenID}, Secret: auth.NewSecret(paramSecret),
		Level: 3, Text: textOnPointer{"x"}, Int8: -8, Uint: 18446744073709551615, Float: 0.5,
		Iface: true, Times: []time.Time{time.Unix(10, 0), {}}, Ints: []int{1, 2}, Array: [2]string{"a", "b"},
	}
	v, err := EncodeParams(auth.PVE, &in)
	require.NoError(t, err)
	assert.Equal(t, "auth-id=alice%40pbs%21backup&userid=bob%40pbs&realm=pbs&tokens=alice%40pbs%21backup%2Calice%40pve%21automation"+
		"&password="+paramSecret+"&level=L3&text=T%3Ax&i8=-8&u=18446744073709551615&f=0.5&iface=1&times=10%2C0&ints=1%2C2&arr=a%2Cb",
		v.Encode(auth.PVE))
	assert.Contains(t, v.String(), "password=[redacted]", "Secret is not sent as its String()")
	assert.NotContains(t, v.String(), paramSecret)
	assert.False(t, v.Has("nosecret"))
	assert.False(t, v.Has("when"))
}
