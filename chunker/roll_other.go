//go:build !amd64 || purego

package chunker

// haveVec is false: there is no vector roll for this architecture (or the
// purego tag asks for none), and rollFiltered does the work.
const haveVec = false

// rollVec is never called without haveVec.
func rollVec(g uint32, _ []byte) (uint32, int) { return g, 0 }
