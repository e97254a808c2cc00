package options

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestApplySkipsNilAndStopsAtTheFirstError(t *testing.T) {
	type cfg struct{ seen []int }
	type opt func(*cfg) error
	add := func(n int) opt { return func(c *cfg) error { c.seen = append(c.seen, n); return nil } }
	boom := errors.New("boom")
	var c cfg
	err := Apply(&c, []opt{add(1), nil, add(2), func(*cfg) error { return boom }, add(3)})
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, []int{1, 2}, c.seen)
	require.NoError(t, Apply(&c, []opt(nil)))
}
