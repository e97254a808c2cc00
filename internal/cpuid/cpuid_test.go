package cpuid

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// On Linux the kernel lists the same features in /proc/cpuinfo, only when
// it saves their state too.
func TestDetectAVX512AgreesWithProcCPUInfo(t *testing.T) {
	info, err := os.ReadFile("/proc/cpuinfo")
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" || err != nil {
		t.Skip("needs /proc/cpuinfo of linux/amd64")
	}
	var flags map[string]bool
	for _, line := range strings.Split(string(info), "\n") {
		if name, list, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			flags = map[string]bool{}
			for _, f := range strings.Fields(list) {
				flags[f] = true
			}
			break
		}
	}
	got := DetectAVX512()
	assert.Equal(t, flags["avx512f"], got.F, "avx512f")
	assert.Equal(t, flags["avx512bw"], got.BW, "avx512bw")
	assert.Equal(t, flags["avx512vbmi"], got.VBMI, "avx512vbmi")
	assert.Equal(t, flags["vpclmulqdq"] && flags["avx512f"], got.VPCLMULQDQ && got.F, "vpclmulqdq")
}
