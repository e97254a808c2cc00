package mockcore

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

func TestNewTokenSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s := NewTokenSecret()
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, s)
		assert.False(t, seen[s], "duplicate secret")
		seen[s] = true
	}
}

func TestSecretStore(t *testing.T) {
	st := NewSecretStore()
	a := auth.MustParseAuthid("alice@pbs!ci")
	b := auth.MustParseAuthid("alice@pbs!backup")
	sa, sb := NewTokenSecret(), NewTokenSecret()
	st.Set(a, sa)
	st.Set(b, sb)
	assert.Equal(t, 2, st.Len())
	assert.True(t, st.Has(a))
	assert.True(t, st.Verify(a, sa))
	assert.True(t, st.Verify(b, sb))
	assert.False(t, st.Verify(a, sb), "secret of another token")
	assert.False(t, st.Verify(a, sa[:35]), "prefix")
	assert.False(t, st.Verify(a, sa+"x"), "suffix")
	assert.False(t, st.Verify(a, ""), "empty")
	assert.False(t, st.Verify(auth.MustParseAuthid("bob@pbs!ci"), sa), "unknown id")
	assert.False(t, st.Verify(auth.Authid{}, ""), "zero id and empty secret")

	// Regenerate: the old secret stops working.
	sa2 := NewTokenSecret()
	st.Set(a, sa2)
	assert.False(t, st.Verify(a, sa))
	assert.True(t, st.Verify(a, sa2))

	st.Delete(a)
	assert.False(t, st.Has(a))
	assert.False(t, st.Verify(a, sa2))
	assert.True(t, st.Verify(b, sb))

	st.Set(auth.MustParseAuthid("bob@pbs!x"), "s")
	st.DeleteFunc(func(id auth.Authid) bool { return id.User() == auth.MustParseUserid("alice@pbs") })
	assert.Equal(t, 1, st.Len())
	assert.True(t, st.Has(auth.MustParseAuthid("bob@pbs!x")))
}

func TestSecretStoreIssue(t *testing.T) {
	st := NewSecretStore()
	a := auth.MustParseAuthid("alice@pbs!ci")
	first := st.Issue(a)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, first)
	assert.True(t, st.Verify(a, first))
	second := st.Issue(a)
	assert.NotEqual(t, first, second)
	assert.False(t, st.Verify(a, first), "a new secret replaces the old one")
	assert.True(t, st.Verify(a, second))
	assert.Equal(t, 1, st.Len())
}

// TestSecretStoreKeepsNoPlaintext inspects every byte the store holds.
func TestSecretStoreKeepsNoPlaintext(t *testing.T) {
	st := NewSecretStore()
	id := auth.MustParseAuthid("alice@pve!ci")
	secret := NewTokenSecret()
	st.Set(id, secret)
	st.Set(auth.MustParseAuthid("bob@pve!ci"), secret) // same secret, other token

	var dump bytes.Buffer
	var salts [][16]byte
	for k, e := range st.entries {
		fmt.Fprintf(&dump, "%s %x %x %s %v", k, e.salt, e.sum, e.sum[:], e)
		salts = append(salts, e.salt)
		assert.Equal(t, 2, reflect.TypeOf(e).NumField(), "an entry holds only salt and hash")
	}
	assert.NotContains(t, dump.String(), secret)
	assert.NotContains(t, dump.String(), fmt.Sprintf("%x", secret))
	require.Len(t, salts, 2)
	assert.NotEqual(t, salts[0], salts[1], "per-entry salt")
	a, b := st.entries[id], st.entries[auth.MustParseAuthid("bob@pve!ci")]
	assert.NotEqual(t, a.sum, b.sum, "equal secrets hash differently")
	assert.NotContains(t, fmt.Sprintf("%+v %#v", st, st), secret)
}

func TestSecretStoreConcurrent(t *testing.T) {
	st := NewSecretStore()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := auth.MustParseAuthid(fmt.Sprintf("u%d@pbs!t", i))
			for range 50 {
				s := NewTokenSecret()
				st.Set(id, s)
				assert.True(t, st.Verify(id, s))
				_ = st.Len()
			}
			st.Delete(id)
		}()
	}
	wg.Wait()
	assert.Zero(t, st.Len())
}

func TestExpired(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	n := now.Unix()
	tests := []struct {
		expire   int64
		pve, pbs bool
	}{
		{0, false, false},
		{n + 1, false, false},
		{n, false, true}, // expire == now: valid on PVE, expired on PBS
		{n - 1, true, true},
		{1, true, true},
		{-1, true, false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.pve, Expired(auth.PVE, tc.expire, now), "PVE expire=%d", tc.expire)
		assert.Equal(t, tc.pbs, Expired(auth.PBS, tc.expire, now), "PBS expire=%d", tc.expire)
	}
}

func TestClock(t *testing.T) {
	var c Clock
	assert.WithinDuration(t, time.Now(), c.Now(), time.Minute)
	fc := NewFakeClock(t0)
	c = fc.Now
	assert.Equal(t, t0, c.Now())
	fc.Advance(time.Hour)
	assert.Equal(t, t0.Add(time.Hour), c.Now())
	fc.Set(t0)
	assert.Equal(t, t0, fc.Now())
}
