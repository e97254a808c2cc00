package mockcore

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

func TestSecretStoreJSONRoundTrip(t *testing.T) {
	st := NewSecretStore()
	a := auth.MustParseAuthid("alice@pve!ci")
	secret := NewTokenSecret()
	st.Set(a, secret)

	b, err := json.Marshal(st)
	require.NoError(t, err)
	assert.NotContains(t, string(b), secret, "only hashes are written")

	back := NewSecretStore()
	require.NoError(t, json.Unmarshal(b, back))
	assert.True(t, back.Verify(a, secret), "the secret verifies after a round trip")
	assert.False(t, back.Verify(a, NewTokenSecret()))
	assert.Equal(t, 1, back.Len())

	var zero SecretStore
	require.NoError(t, json.Unmarshal(b, &zero), "the zero value can be filled")
	assert.True(t, zero.Verify(a, secret))
}

func TestSecretStoreJSONRejectsMalformed(t *testing.T) {
	for _, in := range []string{
		`[]`, `{"alice":"00:00"}`, `{"alice@pve!ci":"zz"}`,
		`{"alice@pve!ci":"00:00"}`,
		`{"alice@pve!ci":"` + string(make([]byte, 0)) + `"}`,
	} {
		st := NewSecretStore()
		st.Set(auth.MustParseAuthid("bob@pve!t1"), "x")
		assert.Error(t, json.Unmarshal([]byte(in), st), in)
		assert.Equal(t, 1, st.Len(), "a failed load changes nothing: %s", in)
	}
}

func FuzzSecretStoreUnmarshal(f *testing.F) {
	st := NewSecretStore()
	st.Set(auth.MustParseAuthid("alice@pve!ci"), "s")
	good, _ := json.Marshal(st)
	f.Add(good)
	f.Add([]byte(`{"a@b!c":"zz:zz"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s SecretStore
		_ = s.UnmarshalJSON(b)
	})
}
