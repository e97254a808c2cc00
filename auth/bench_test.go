package auth

import "testing"

func BenchmarkParseAuthid(b *testing.B) {
	const s = "backup@pbs!client1"
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAuthid(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseRepository(b *testing.B) {
	const s = "backup@pbs!client1@pbs.example.com:8007:store1"
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRepository(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTokenPBSHeader(b *testing.B) {
	tok := Token{ID: MustParseAuthid("backup@pbs!client1"), Secret: NewSecret(uuidSecret)}
	b.ReportAllocs()
	for b.Loop() {
		_ = tok.PBSHeader()
	}
}
