package mockcore

import (
	"time"

	"github.com/proxkit/proxkit/auth"
)

// Expired applies product p's rule for a user's or token's "expire" field
// (epoch seconds, 0 = never; access-api.md 7): PVE expires after the
// expire second (expire != 0 && expire < now, so expire == now is still
// valid), PBS at it (expire > 0 && expire <= now).
func Expired(p auth.Product, expire int64, now time.Time) bool {
	if p == auth.PVE {
		return expire != 0 && expire < now.Unix()
	}
	return expire > 0 && expire <= now.Unix()
}
