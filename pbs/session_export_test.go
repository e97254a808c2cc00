package pbs

import "context"

// CallEvent exposes callEvent to the external tests.
type CallEvent = callEvent

// WithCallObserver returns ctx with obs installed: obs sees every session
// call made with a context derived from it, before it is sent and when it
// is answered. Used by the wire tests; concurrent calls call obs
// concurrently.
func WithCallObserver(ctx context.Context, obs func(CallEvent)) context.Context {
	return context.WithValue(ctx, observerKey{}, obs)
}
