package chunker

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTableMatchesSpec(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(sharedDir(t), "spec", "buzhash-table.txt"))
	require.NoError(t, err)
	lines := strings.Fields(string(raw))
	require.Len(t, lines, len(buzhashTable))
	for i, line := range lines {
		v, err := strconv.ParseUint(strings.TrimPrefix(line, "0x"), 16, 32)
		require.NoError(t, err, "line %d", i+1)
		assert.Equal(t, uint32(v), buzhashTable[i], "T[%d]", i)
	}
}
