//go:build !amd64

package cpuid

// DetectAVX512 reports nothing: AVX-512 is an amd64 extension.
func DetectAVX512() AVX512 { return AVX512{} }
