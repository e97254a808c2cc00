package mockcore

import (
	"context"
	"net/http"
	"time"
)

// Delays of the real servers, for mocks that want to reproduce them.
const (
	// RealAuthFailureDelay is how long after a request's arrival the real
	// servers send a 401: about 3 seconds on both products.
	RealAuthFailureDelay = 3 * time.Second
	// RealPBSForbiddenDelay is how long the PBS REST server holds back an
	// endpoint-level 403 "permission check failed" (proxmox-rest-server
	// access_forbidden_time); use it as an AuthFailureDelay before
	// WritePBSError(w, 403, PBSPermissionFailed).
	RealPBSForbiddenDelay = 500 * time.Millisecond
)

// AuthFailureDelay holds back 401 replies until this long after the
// request arrived, like the real servers do to slow down guessing. The
// zero value (the mocks' default) does not delay. It runs on the real
// clock on purpose: it models wall time a client waits, not the mock's
// (possibly frozen) notion of "now".
type AuthFailureDelay time.Duration

type arrivalKey struct{}

// StampArrival records when each request arrived, so AuthFailureDelay can
// measure from arrival rather than from the moment the failure is known.
// Wrap the whole mock handler with it.
func StampArrival(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), arrivalKey{}, time.Now())))
	})
}

// ArrivalTime returns the time StampArrival recorded for the request.
func ArrivalTime(r *http.Request) (time.Time, bool) {
	t, ok := r.Context().Value(arrivalKey{}).(time.Time)
	return t, ok
}

// Wait blocks until d has passed since the request arrived (since now if
// StampArrival was not used) or the request's context ends.
func (d AuthFailureDelay) Wait(r *http.Request) {
	if d <= 0 {
		return
	}
	start, ok := ArrivalTime(r)
	if !ok {
		start = time.Now()
	}
	rest := time.Until(start.Add(time.Duration(d)))
	if rest <= 0 {
		return
	}
	t := time.NewTimer(rest)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}
