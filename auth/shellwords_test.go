package auth

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"ls /etc", []string{"ls", "/etc"}},
		{`ls "/etc"`, []string{"ls", "/etc"}},
		{`ls '/etc'`, []string{"ls", "/etc"}},
		{`ls /e"t"c`, []string{"ls", "/etc"}},
		{`ls /e'tc'`, []string{"ls", "/etc"}},
		{`ls /e't''c'`, []string{"ls", "/etc"}},
		{`ls /etc\ \08x`, []string{"ls", "/etc 08x"}},
		{`ls "/etc \08x"`, []string{"ls", `/etc \08x`}},
		{`ls "/etc \"08x"`, []string{"ls", `/etc "08x`}},
		{`ls "a\$b\\c\'d"`, []string{"ls", `a$b\c'd`}},
		{"  pass   show\tpbs/backup\n", []string{"pass", "show", "pbs/backup"}},
		{`echo '' ""`, []string{"echo", "", ""}},
		{`'a b'"c d"e`, []string{"a bc de"}},
		{`a\'b`, []string{"a'b"}},
		{`'$HOME' *`, []string{"$HOME", "*"}},
		{"", nil},
		{"   ", nil},
	}
	for _, tc := range tests {
		got, err := splitWords(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{`ls "unclosed`, `ls 'unclosed`, `trailing\`, `"a\`} {
		_, err := splitWords(bad)
		assert.ErrorIs(t, err, errUnclosedQuote, bad)
	}
}
