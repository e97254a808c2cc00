package mockcore

import (
	"sync"
	"time"
)

// Clock returns the current time. Every time-dependent piece of this
// package takes one (or the time itself), so mocks can freeze or advance
// time to test ticket and token expiry without sleeping.
type Clock func() time.Time

// Now calls c, or time.Now when c is nil.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	return c()
}

// FakeClock is a Clock under test control, safe for concurrent use. Its
// zero value starts at the zero time; use NewFakeClock.
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFakeClock returns a clock standing still at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{t: t} }

// Now returns the clock's current time; pass the method value (c.Now) where
// a Clock is wanted.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d (backward for negative d).
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
