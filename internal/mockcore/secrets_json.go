package mockcore

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/proxkit/proxkit/auth"
)

// MarshalJSON encodes the stored salted hashes, never a secret, as
// {"<auth id>": "<salt hex>:<sha256 hex>"}, so that a mock can persist its
// state and verify the same secrets after a restart.
func (s *SecretStore) MarshalJSON() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := make(map[string]string, len(s.entries))
	for id, e := range s.entries {
		m[id.String()] = hex.EncodeToString(e.salt[:]) + ":" + hex.EncodeToString(e.sum[:])
	}
	return json.Marshal(m)
}

// UnmarshalJSON replaces the store's content with hashes written by
// MarshalJSON. Malformed input changes nothing and is an error that does
// not repeat the hashes.
func (s *SecretStore) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("mockcore: secret store: %w", err)
	}
	entries := make(map[auth.Authid]secretHash, len(m))
	for k, v := range m {
		id, err := auth.ParseAuthid(k)
		if err != nil {
			return fmt.Errorf("mockcore: secret store: %w", err)
		}
		salt, sum, ok := strings.Cut(v, ":")
		var e secretHash
		if !ok || hex.DecodedLen(len(salt)) != len(e.salt) || hex.DecodedLen(len(sum)) != len(e.sum) {
			return fmt.Errorf("mockcore: secret store: malformed hash for %s", id)
		}
		if _, err := hex.Decode(e.salt[:], []byte(salt)); err != nil {
			return fmt.Errorf("mockcore: secret store: malformed salt for %s", id)
		}
		if _, err := hex.Decode(e.sum[:], []byte(sum)); err != nil {
			return fmt.Errorf("mockcore: secret store: malformed hash for %s", id)
		}
		entries[id] = e
	}
	s.mu.Lock()
	s.entries = entries
	s.mu.Unlock()
	return nil
}
