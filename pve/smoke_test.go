package pve_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	e := newEnv(t)
	v, err := e.admin.Version(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, "9.1.1", v.Version)
	users, err := e.admin.Access.ListUsers(ctx(t), nil)
	require.NoError(t, err)
	t.Log(users)
}
