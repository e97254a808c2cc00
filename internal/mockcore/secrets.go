package mockcore

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"sync"

	"github.com/proxkit/proxkit/auth"
)

// NewTokenSecret returns a new API token secret in the servers' shape: a
// lowercase hyphenated random (version 4) UUID, 36 characters.
func NewTokenSecret() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// SecretStore keeps API token secrets as salted SHA-256 hashes, the way
// PBS keeps token.shadow: a secret is shown once (the create or regenerate
// response) and can only be verified afterwards. Safe for concurrent use.
type SecretStore struct {
	mu      sync.RWMutex
	entries map[auth.Authid]secretHash
}

// secretHash is one stored secret; the plaintext is never kept.
type secretHash struct {
	salt [16]byte
	sum  [sha256.Size]byte
}

// NewSecretStore returns an empty store.
func NewSecretStore() *SecretStore {
	return &SecretStore{entries: map[auth.Authid]secretHash{}}
}

func hashSecret(salt [16]byte, secret string) [sha256.Size]byte {
	h := sha256.New()
	h.Write(salt[:])
	h.Write([]byte(secret))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// Set stores (or replaces) the secret of token id under a fresh salt.
func (s *SecretStore) Set(id auth.Authid, secret string) {
	var e secretHash
	_, _ = rand.Read(e.salt[:])
	e.sum = hashSecret(e.salt, secret)
	s.mu.Lock()
	s.entries[id] = e
	s.mu.Unlock()
}

// Verify reports whether secret is the stored secret of id. The hash
// comparison is constant-time, and an unknown id costs the same hashing as
// a known one.
func (s *SecretStore) Verify(id auth.Authid, secret string) bool {
	s.mu.RLock()
	e, ok := s.entries[id]
	s.mu.RUnlock()
	sum := hashSecret(e.salt, secret)
	return subtle.ConstantTimeCompare(sum[:], e.sum[:]) == 1 && ok
}

// Has reports whether a secret is stored for id.
func (s *SecretStore) Has(id auth.Authid) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.entries[id]
	return ok
}

// Delete forgets the secret of id.
func (s *SecretStore) Delete(id auth.Authid) {
	s.mu.Lock()
	delete(s.entries, id)
	s.mu.Unlock()
}

// DeleteFunc forgets every secret whose id satisfies match, e.g. all tokens
// of a deleted user.
func (s *SecretStore) DeleteFunc(match func(auth.Authid) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.entries {
		if match(id) {
			delete(s.entries, id)
		}
	}
}

// Len returns the number of stored secrets.
func (s *SecretStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.entries)
}

// Issue gives token id a new secret (NewTokenSecret), stores it and
// returns it: the one time a server shows a token's secret.
func (s *SecretStore) Issue(id auth.Authid) string {
	secret := NewTokenSecret()
	s.Set(id, secret)
	return secret
}
